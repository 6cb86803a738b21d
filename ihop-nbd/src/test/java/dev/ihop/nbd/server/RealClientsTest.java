package dev.ihop.nbd.server;

import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.nbd.device.FileDevice;
import dev.ihop.remote.Tools;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server against Debian's NBD clients: libnbd's nbdinfo and nbdcopy, and qemu-img.
 */
class RealClientsTest {
    @TempDir
    Path dir;

    static String run(Path workDir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + String.join(" ", command));
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + text);
        return text;
    }

    private Path randomImage(String name, int size) throws IOException {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        Arrays.fill(bytes, size / 3, size / 2, (byte) 0); // a zero run, as real images have
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void nbdinfoAndNbdcopyOverUnixSocket() throws Exception {
        Tools.require("nbdinfo", "nbdcopy");
        Path image = randomImage("disk.img", 20 * 1024 * 1024 + 512 * 3);
        Path socket = dir.resolve("s");
        try (FileDevice device = FileDevice.open(image);
                NbdServer server = NbdServer.listenUnix(socket, List.of(new Export("disk.img", device)))) {
            String uri = "nbd+unix:///disk.img?socket=" + ((java.net.UnixDomainSocketAddress) server.address()).getPath();
            assertEquals(String.valueOf(Files.size(image)), run(dir, "nbdinfo", "--size", uri).strip());
            String info = run(dir, "nbdinfo", uri);
            assertTrue(info.contains("is_read_only: true"), info);
            assertTrue(info.contains("can_multi_conn: true"), info);
            assertTrue(info.contains("block_size_maximum: 33554432"), info);
            assertTrue(run(dir, "nbdinfo", "--list", "nbd+unix:///?socket=" + socket).contains("disk.img"));
            // the empty export name is the first export
            assertEquals(String.valueOf(Files.size(image)), run(dir, "nbdinfo", "--size", "nbd+unix:///?socket=" + socket).strip());

            Path copy = dir.resolve("copy.img");
            run(dir, "nbdcopy", uri, copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
            // many connections and requests in flight
            Files.delete(copy);
            run(dir, "nbdcopy", "--connections=4", "--requests=32", "--request-size=65536", uri, copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
        }
    }

    @Test
    void aReleaseThroughNbdinfoNbdcopyAndQemuImg() throws Exception {
        Tools.require("nbdinfo", "nbdcopy", "qemu-img");
        byte[] bytes = dev.ihop.nbd.testing.TestReleases.imageWithRepeats(12 * 1024 * 1024 + 999, 8);
        Path image = Files.write(dir.resolve("image.raw"), bytes);
        Path release = dev.ihop.nbd.testing.TestReleases.create(dir.resolve("store"), "release-1", bytes, 9);
        try (var device = dev.ihop.nbd.device.BlockDevices.open(release);
                NbdServer server = NbdServer.listenUnix(dir.resolve("s"), List.of(new Export("release-1", device)))) {
            String socket = ((java.net.UnixDomainSocketAddress) server.address()).getPath().toString();
            assertEquals(String.valueOf(bytes.length), run(dir, "nbdinfo", "--size", "nbd+unix:///release-1?socket=" + socket).strip());
            Path copy = dir.resolve("copy.raw");
            run(dir, "nbdcopy", "--connections=4", "nbd+unix:///release-1?socket=" + socket, copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
            Path viaQemu = dir.resolve("qemu.raw");
            run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", "nbd+unix:///release-1?socket=" + socket, viaQemu.toString());
            // qemu works in 512-byte sectors: it pads the unaligned tail with zeros.
            byte[] q = Files.readAllBytes(viaQemu);
            assertEquals((bytes.length + 511) / 512 * 512, q.length);
            assertArrayEquals(bytes, java.util.Arrays.copyOf(q, bytes.length));
            assertTrue(java.util.Arrays.equals(q, bytes.length, q.length, new byte[q.length - bytes.length], 0, q.length - bytes.length));
        }
    }

    @Test
    void qemuImgConvertOverTcp() throws Exception {
        Tools.require("qemu-img");
        Path image = randomImage("plain.raw", 9 * 1024 * 1024 + 4096);
        try (FileDevice device = FileDevice.open(image);
                NbdServer server = NbdServer.listenTcp(new InetSocketAddress("127.0.0.1", 0), List.of(new Export("plain.raw", device)))) {
            int port = ((InetSocketAddress) server.address()).getPort();
            Path copy = dir.resolve("copy.raw");
            run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", "nbd://127.0.0.1:" + port + "/plain.raw", copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
            String info = run(dir, "qemu-img", "info", "--output=json", "nbd://127.0.0.1:" + port + "/plain.raw");
            assertTrue(info.contains("\"virtual-size\": " + Files.size(image)), info);
        }
    }

    @Test
    void ext4ImageIsIntactThroughTheExport() throws Exception {
        Tools.require("mkfs.ext4", "e2fsck", "debugfs", "nbdcopy");
        Path src = Files.createDirectories(dir.resolve("src/sub"));
        Files.writeString(src.resolve("hello.txt"), "hello from ext4 over nbd\n");
        StringBuilder numbers = new StringBuilder();
        for (int i = 1; i <= 100_000; i++) {
            numbers.append(i).append('\n');
        }
        Files.writeString(src.resolve("numbers.txt"), numbers);
        Path image = dir.resolve("fs.ext4");
        try (var f = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
            f.write(java.nio.ByteBuffer.allocate(1), 16 * 1024 * 1024 - 1);
        }
        run(dir, "mkfs.ext4", "-q", "-F", "-b", "1024", "-d", dir.resolve("src").toString(), image.toString());
        Path socket = dir.resolve("s");
        try (FileDevice device = FileDevice.open(image);
                NbdServer server = NbdServer.listenUnix(socket, List.of(new Export("fs.ext4", device)))) {
            Path copy = dir.resolve("copy.ext4");
            run(dir, "nbdcopy", "nbd+unix:///?socket=" + ((java.net.UnixDomainSocketAddress) server.address()).getPath(), copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
            run(dir, "e2fsck", "-n", "-f", copy.toString());
            String cat = run(dir, "debugfs", "-R", "cat /sub/numbers.txt", copy.toString());
            assertTrue(cat.contains(numbers.toString()), "file read back through the copied export");
        }
    }
}
