package dev.ihop.cli;

import dev.ihop.remote.Tools;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code ihop mount} against a real kernel nbd driver: this machine's kernel has none, so
 * the test boots Debian's kernel in a small VM ({@code shared/nbd-vm}, prepared by its
 * {@code setup.sh}) with this machine's files at {@code /host}, and runs
 * {@code ihop-nbd/src/test/vm/mount-guest.sh} there: attach a release (compressed and cloned
 * from an ext4 image with ihop itself), wait until live, compare the
 * raw device with the image, refuse a second attach, mount ext4 read-only and compare the
 * files, then SIGTERM and check the device detached.
 */
class KernelMountIT {
    /** Big files under target/: the guest hides the host's /tmp under its own tmpfs. */
    private final Path work = Path.of("target", "kernel-mount-it").toAbsolutePath();

    @Test
    void mountsAReleaseOfAnExt4ImageInAVm() throws Exception {
        Path vm = Path.of(System.getProperty("ihop.testdata", "../../shared/testdata")).toAbsolutePath().getParent().resolve("nbd-vm");
        Path vmWork = Path.of(System.getenv().getOrDefault("W", "/tmp/nbdvm"));
        Tools.require("qemu-system-x86_64", "mkfs.ext4");
        Tools.requireThat(Files.isRegularFile(vm.resolve("run-vm.sh")), vm.resolve("run-vm.sh").toString());
        Tools.requireThat(Files.isRegularFile(vmWork.resolve("initrd.gz")), "the nbd VM in " + vmWork + " (run " + vm.resolve("setup.sh") + ")");
        Path guestScript = Path.of("..", "ihop-nbd", "src", "test", "vm", "mount-guest.sh").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(guestScript), guestScript.toString());

        deleteRecursively(work);
        Path src = work.resolve("src");
        Files.createDirectories(src.resolve("sub/deeper"));
        Files.writeString(src.resolve("hello.txt"), "hello from ext4 over ihop's nbd\n");
        StringBuilder numbers = new StringBuilder();
        for (int i = 1; i <= 200_000; i++) {
            numbers.append(i).append('\n');
        }
        Files.writeString(src.resolve("sub/numbers.txt"), numbers);
        byte[] random = new byte[3 * 1024 * 1024 + 123];
        new Random(3).nextBytes(random);
        Files.write(src.resolve("sub/deeper/random.bin"), random);
        Files.createSymbolicLink(src.resolve("link"), Path.of("hello.txt"));
        Path image = work.resolve("fs.ext4");
        try (FileChannel f = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            f.write(ByteBuffer.allocate(1), 24 * 1024 * 1024 - 1);
        }
        // 1 KiB file-system blocks with ihop's default 512-byte device blocks.
        exec(work, 60, "mkfs.ext4", "-q", "-F", "-b", "1024", "-L", "ihoptest", "-d", src.toString(), image.toString());

        // The image as a device gets it: compressed to an archive, cloned into a chunk store.
        IhopProcess.Result compress = IhopProcess.run(work, "compress", "-i", image.toString(), "fs.cba",
                "--avg-chunk-size", "16KiB", "--min-chunk-size", "4KiB", "--max-chunk-size", "256KiB");
        assertEquals(0, compress.exitCode(), compress.stderr());
        Path release = work.resolve("store").resolve("release-1");
        Files.createDirectories(release.getParent());
        IhopProcess.Result clone = IhopProcess.run(work, "clone", "fs.cba", release.toString());
        assertEquals(0, clone.exitCode(), clone.stderr());

        String append = String.join(" ",
                "IHOP_JAVA=" + IhopProcess.java(),
                "IHOP_JAR=" + IhopProcess.jar(),
                "IHOP_BACKEND=" + release,
                "IHOP_IMAGE=" + image,
                "IHOP_SRC=" + src);
        ProcessBuilder pb = new ProcessBuilder("sh", vm.resolve("run-vm.sh").toString(), "/host" + guestScript)
                .redirectErrorStream(true);
        pb.environment().put("EXTRA_APPEND", append);
        pb.environment().put("W", vmWork.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "VM timed out");
        System.out.println(output);
        assertEquals(0, p.exitValue(), "guest checks failed:\n" + output);
        assertTrue(output.contains("GUEST: device bytes equal the image"), output);
        assertTrue(output.contains("GUEST: files equal the originals"), output);
        assertTrue(output.contains("GUEST: ihop exit 0"), output);
    }

    private static void exec(Path dir, int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
