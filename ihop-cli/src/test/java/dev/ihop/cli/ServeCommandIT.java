package dev.ihop.cli;

import dev.ihop.remote.Tools;
import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ihop serve} as a process: real clients, and SIGTERM stopping it with exit code 0. */
class ServeCommandIT {
    @TempDir
    Path dir;

    private Path image(String name, int size) throws Exception {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return Files.write(dir.resolve(name), bytes);
    }

    static String run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Test
    void unixSocketServesEveryBackendAndSigtermStopsCleanly() throws Exception {
        Tools.require("nbdinfo", "nbdcopy");
        Path first = image("first.img", 5 * 1024 * 1024 + 77);
        Path second = image("second.raw", 1024 * 1024);
        Path socket = dir.resolve("nbd.sock");
        Path log = dir.resolve("serve.log"); // Process.destroy() closes the pipes: keep the output in a file
        Process server = IhopProcess.command(dir, "serve", "--socket", socket.toString(), "first.img", "second.raw")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            waitFor(socket, server);
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            assertEquals(String.valueOf(Files.size(first)), run(dir, "nbdinfo", "--size", "nbd+unix:///?socket=" + socket).strip(),
                    "the empty export name is the first backend");
            Path copy = dir.resolve("copy");
            run(dir, "nbdcopy", "nbd+unix:///second.raw?socket=" + socket, copy.toString());
            assertEquals(-1, Files.mismatch(second, copy));
            Files.delete(copy);
            run(dir, "nbdcopy", "nbd+unix:///first.img?socket=" + socket, copy.toString());
            assertEquals(-1, Files.mismatch(first, copy));
        } finally {
            server.destroy(); // SIGTERM
        }
        assertTrue(server.waitFor(30, TimeUnit.SECONDS));
        String output = Files.readString(log);
        assertEquals(0, server.exitValue(), output);
        assertTrue(output.startsWith("ihop: serving first.img, second.raw on unix:" + socket), output);
        assertFalse(Files.exists(socket), "socket removed on stop");
    }

    @Test
    void servesAClonedRelease() throws Exception {
        Tools.require("nbdcopy");
        Path image = image("image.raw", 6 * 1024 * 1024 + 100);
        assertEquals(0, IhopProcess.run(dir, "compress", "-i", "image.raw", "image.cba", "--avg-chunk-size", "16KiB",
                "--min-chunk-size", "4KiB").exitCode());
        Files.createDirectories(dir.resolve("store"));
        IhopProcess.Result clone = IhopProcess.run(dir, "clone", "image.cba", "store/v1");
        assertEquals(0, clone.exitCode(), clone.stderr());
        Path socket = dir.resolve("nbd.sock");
        Process server = IhopProcess.command(dir, "serve", "--socket", socket.toString(), "store/v1", "image.raw")
                .redirectErrorStream(true).start();
        try {
            waitFor(socket, server);
            Path copy = dir.resolve("copy");
            run(dir, "nbdcopy", "nbd+unix:///v1?socket=" + socket, copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
        } finally {
            server.destroy();
        }
        assertTrue(server.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, server.exitValue());
    }

    @Test
    void tcpOnLoopbackByDefault() throws Exception {
        Tools.require("nbdinfo");
        Path image = image("disk.img", 2 * 1024 * 1024);
        Process server = IhopProcess.command(dir, "serve", "--listen", ":0", "disk.img").start();
        try {
            BufferedReader err = new BufferedReader(new InputStreamReader(server.getErrorStream(), StandardCharsets.UTF_8));
            String line = err.readLine();
            Matcher m = Pattern.compile("ihop: serving disk.img on nbd://127\\.0\\.0\\.1:(\\d+)").matcher(String.valueOf(line));
            assertTrue(m.matches(), line);
            assertEquals(String.valueOf(Files.size(image)),
                    run(dir, "nbdinfo", "--size", "nbd://127.0.0.1:" + m.group(1) + "/disk.img").strip());
        } finally {
            server.destroy();
        }
        assertTrue(server.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, server.exitValue());
    }

    @Test
    void badArgumentsAreOneLineAndNonZero() throws Exception {
        image("a.img", 4096);
        Files.createDirectories(dir.resolve("other"));
        image("other/a.img", 4096);
        IhopProcess.Result twoNames = IhopProcess.run(dir, "serve", "--socket", "s", "a.img", "other/a.img");
        assertEquals(2, twoNames.exitCode());
        assertTrue(twoNames.stderr().startsWith("two backends are named 'a.img'"), twoNames.stderr());

        IhopProcess.Result missing = IhopProcess.run(dir, "serve", "--socket", "s", "missing.img");
        assertEquals(1, missing.exitCode());
        assertEquals("ihop: no such file: missing.img\n", missing.stderr());
        assertFalse(Files.exists(dir.resolve("s")));

        IhopProcess.Result both = IhopProcess.run(dir, "serve", "--socket", "s", "--listen", ":1", "a.img");
        assertEquals(2, both.exitCode());
        IhopProcess.Result badPort = IhopProcess.run(dir, "serve", "--listen", "localhost:http", "a.img");
        assertEquals(2, badPort.exitCode());
        assertTrue(badPort.stderr().startsWith("--listen localhost:http: port 'http' is not a number"), badPort.stderr());

        Files.writeString(dir.resolve("taken"), "");
        IhopProcess.Result taken = IhopProcess.run(dir, "serve", "--socket", "taken", "a.img");
        assertEquals(1, taken.exitCode());
        assertEquals(1, taken.stderr().lines().count(), taken.stderr());
    }

    @Test
    void mountWithoutADriverIsOneLineAndNonZero() throws Exception {
        image("a.img", 4096);
        IhopProcess.Result r = IhopProcess.run(dir, "mount", "a.img", dir.resolve("nbd9").toString());
        assertEquals(1, r.exitCode());
        assertEquals(1, r.stderr().lines().count(), r.stderr());
        assertTrue(r.stderr().startsWith("ihop: " + dir.resolve("nbd9") + ": no such device node"), r.stderr());
    }

    private static void waitFor(Path socket, Process server) throws InterruptedException {
        for (int i = 0; i < 300 && !Files.exists(socket); i++) {
            assertTrue(server.isAlive(), "ihop serve exited early");
            Thread.sleep(50);
        }
        assertTrue(Files.exists(socket), "socket appeared");
    }
}
