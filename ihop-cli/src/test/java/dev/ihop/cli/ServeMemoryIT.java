package dev.ihop.cli;

import dev.ihop.remote.Tools;
import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import dev.ihop.store.ChunkStore;
import dev.ihop.store.StoreDictionary;
import dev.ihop.store.StoreDictionary.StoreChunk;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code ihop serve} of a 1 GiB release in a JVM with a 64 MiB heap: nbdcopy reads the whole
 * export over one connection (checked byte for byte by CRC-32C) and then over 16 parallel
 * connections, with the default and with the maximum request size. The server's peak
 * resident set (VmHWM) is printed after each phase and must stay far below the export size.
 */
class ServeMemoryIT {
    static final long SIZE = 1L << 30;
    /** The JVM itself takes ~40 MiB, the heap up to 64 MiB, direct buffers up to ~50 MiB; measured ~120 MiB. */
    static final long PEAK_RSS_LIMIT = 192L << 20;

    static Path dir;
    static Path release;
    static long imageCrc;

    @BeforeAll
    static void buildRelease() throws IOException {
        dir = Files.createTempDirectory("ihop-serve-memory-");
        long start = System.nanoTime();
        release = createRelease(dir.resolve("store"), "release-1g", 1234);
        System.out.printf("ServeMemoryIT: built a %d MiB release in %.1f s%n", SIZE >> 20, (System.nanoTime() - start) / 1e9);
    }

    @AfterAll
    static void removeRelease() throws IOException {
        if (dir != null) {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /**
     * A release of a {@link #SIZE}-byte image in a new store, built directly (no compression,
     * no fsync per chunk: this is test data): chunks of 16 to 112 KiB, one in eight a repeat of
     * an earlier one, content drawn from a random pool and stamped with the chunk's number.
     * Sets {@link #imageCrc}.
     */
    static Path createRelease(Path root, String name, long seed) throws IOException {
        Random random = new Random(seed);
        byte[] pool = new byte[4 << 20];
        random.nextBytes(pool);
        ChunkStore store = new ChunkStore(root);
        Files.createDirectories(store.chunksDirectory());
        List<StoreChunk> chunks = new ArrayList<>();
        List<byte[]> recent = new ArrayList<>();
        int[] order = new int[(int) (SIZE / (16 << 10)) + 1];
        int count = 0;
        Blake2b imageHash = new Blake2b();
        CRC32C crc = new CRC32C();
        long at = 0;
        while (at < SIZE) {
            byte[] data = null;
            int index = -1;
            if (count % 8 == 7 && !recent.isEmpty()) {
                index = random.nextInt(chunks.size() - recent.size(), chunks.size());
                data = recent.get(index - (chunks.size() - recent.size()));
            }
            if (data == null || data.length > SIZE - at) {
                int size = (int) Math.min(SIZE - at, (16 << 10) + random.nextInt(96 << 10));
                data = new byte[size];
                System.arraycopy(pool, random.nextInt(pool.length - size), data, 0, size);
                for (int k = 0; k < Math.min(8, size); k++) {
                    data[k] = (byte) (chunks.size() >>> (8 * k));
                }
                HashSum hash = Blake2b.chunkHash(data, 0, size, 32);
                Path file = store.chunkPath(hash);
                Files.createDirectories(file.getParent());
                Files.write(file, data);
                index = chunks.size();
                chunks.add(new StoreChunk(hash, size));
                recent.add(data);
                if (recent.size() > 64) {
                    recent.removeFirst();
                }
            }
            order[count++] = index;
            imageHash.update(data, 0, data.length);
            crc.update(data, 0, data.length);
            at += data.length;
        }
        imageCrc = crc.getValue();
        StoreDictionary dictionary = new StoreDictionary("serve-memory-test", imageHash.sum(), SIZE,
                java.util.Arrays.copyOf(order, count), List.copyOf(chunks), ChunkerConfig.bitaDefault(), 32);
        Path file = root.resolve(name);
        store.writeRelease(file, dictionary, false);
        return file;
    }

    @Test
    void aOneGibReleaseIsServedWithA64MibHeap() throws Exception {
        Tools.require("nbdcopy");
        Path socket = dir.resolve("nbd.sock");
        Path log = dir.resolve("serve.log");
        Process server = IhopProcess.command(List.of("-Xmx64m"), dir, "serve", "--socket", socket.toString(), release.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            for (int i = 0; i < 300 && !Files.exists(socket); i++) {
                assertTrue(server.isAlive(), () -> "ihop serve exited early: " + read(log));
                Thread.sleep(50);
            }
            String uri = "nbd+unix:///release-1g?socket=" + socket;
            long idle = peakRss(server.pid());

            long start = System.nanoTime();
            Process copy = new ProcessBuilder("nbdcopy", "--connections=1", uri, "-").redirectError(ProcessBuilder.Redirect.INHERIT).start();
            CRC32C crc = new CRC32C();
            long total = 0;
            try (InputStream in = copy.getInputStream()) {
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    crc.update(buffer, 0, n);
                    total += n;
                }
            }
            assertTrue(copy.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, copy.exitValue());
            assertEquals(SIZE, total);
            assertEquals(imageCrc, crc.getValue(), "the export is the image, byte for byte");
            double oneConnection = (System.nanoTime() - start) / 1e9;
            long afterOne = peakRss(server.pid());

            start = System.nanoTime();
            run("nbdcopy", "--connections=16", uri, "null:");
            double sixteen = (System.nanoTime() - start) / 1e9;
            long afterSixteen = peakRss(server.pid());

            start = System.nanoTime();
            run("nbdcopy", "--connections=16", "--requests=4", "--request-size=33554432", uri, "null:");
            double sixteenLarge = (System.nanoTime() - start) / 1e9;
            long afterLarge = peakRss(server.pid());

            System.out.printf("ServeMemoryIT: ihop serve -Xmx64m of a 1 GiB release: peak RSS %.1f MiB idle,"
                    + " %.1f MiB after nbdcopy over 1 connection (%.1f s), %.1f MiB after 16 connections (%.1f s),"
                    + " %.1f MiB after 16 connections with 32 MiB requests (%.1f s)%n",
                    mib(idle), mib(afterOne), oneConnection, mib(afterSixteen), sixteen, mib(afterLarge), sixteenLarge);
            assertTrue(server.isAlive(), () -> read(log));
            assertTrue(afterLarge < PEAK_RSS_LIMIT, "peak RSS " + mib(afterLarge) + " MiB");
        } finally {
            server.destroy();
        }
        assertTrue(server.waitFor(30, TimeUnit.SECONDS));
        String output = read(log);
        assertEquals(0, server.exitValue(), output);
        assertFalse(output.contains("OutOfMemoryError"), output);
        assertFalse(output.contains("Exception in thread"), output);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }

    private static long peakRss(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no VmHWM in /proc/" + pid + "/status");
    }

    private static double mib(long bytes) {
        return bytes / 1048576.0;
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
