package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ihop.format.Blake2b;
import dev.ihop.remote.NginxServer;
import dev.ihop.remote.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB image compressed with {@code -Xmx256m} and cloned over HTTP (nginx) with
 * {@code -Xmx64m}, each as a separate JVM; the clone's image must be exact. Peak RSS
 * (VmHWM) is printed. The image is {@code bench/GenerateImage.java}'s: a 64 MiB
 * pseudo-random block repeated with variations, so compressing it is quick while the
 * dictionary still describes 1 GiB (about 26,000 chunks) and about 70 MiB of chunks
 * pass through the clone's fetch pipeline: more than its heap. {@code bench/memory.sh}
 * measures the same for compress, clone, extract and serve.
 */
class SmallMemoryTest {
    static final long SIZE = 1L << 30;

    @TempDir
    Path dir;

    @Test
    void oneGibImageCompressesIn256MibAndClonesIn64MibOfHeap() throws Exception {
        Tools.require("nginx");
        Path image = dir.resolve("image.img");
        writeImage(image, SIZE);
        Path www = Files.createDirectories(dir.resolve("www"));
        Path archive = www.resolve("image.cba");

        long t0 = System.nanoTime();
        long compressRss;
        try (ForkedCli cli = ForkedCli.start(List.of("-Xmx256m"), "compress", "-i", image.toString(), "--compression", "zstd",
                "--compression-level", "1", archive.toString())) {
            assertEquals(0, cli.await(600), cli.stderrText());
            compressRss = cli.peakRssKiB();
        }
        long t1 = System.nanoTime();
        Path release = dir.resolve("store").resolve("v1");
        long cloneRss;
        try (NginxServer nginx = NginxServer.start(www);
             ForkedCli cli = ForkedCli.start(List.of("-Xmx64m"), "clone", nginx.uri("/image.cba").toString(), release.toString())) {
            assertEquals(0, cli.await(600), cli.stderrText());
            cloneRss = cli.peakRssKiB();
        }
        long t2 = System.nanoTime();
        System.out.printf("1 GiB image: compress -Xmx256m %.1f s, peak RSS %d MiB; clone over HTTP -Xmx64m %.1f s, peak RSS %d MiB%n",
                (t1 - t0) / 1e9, compressRss >> 10, (t2 - t1) / 1e9, cloneRss >> 10);
        assertEquals(hash(image), StoreChecks.imageHash(release), "the cloned image is exact");
    }

    private static String hash(Path file) throws IOException {
        Blake2b h = new Blake2b();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                h.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(h.digest());
    }

    /** Same bytes as bench/GenerateImage.java (kept in step by hand; that one runs without a build). */
    static void writeImage(Path out, long size) throws IOException {
        int period = 64 << 20;
        byte[] pattern = new byte[period];
        ByteBuffer p = ByteBuffer.wrap(pattern).order(ByteOrder.LITTLE_ENDIAN);
        long x = 42;
        while (p.hasRemaining()) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            p.putLong(x & 0x3f3f3f3f3f3f3f3fL);
        }
        Random random = new Random(7);
        try (FileChannel c = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            byte[] copy = new byte[period];
            for (long done = 0; done < size; done += period) {
                System.arraycopy(pattern, 0, copy, 0, period);
                for (int i = 0; i < 8; i++) {
                    int at = random.nextInt(period - 100);
                    for (int j = 0; j < 100; j++) {
                        copy[at + j] = (byte) random.nextInt();
                    }
                }
                ByteBuffer b = ByteBuffer.wrap(copy, 0, (int) Math.min(period, size - done));
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
        }
    }
}
