package dev.ihop.bench;

import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkReader;
import dev.ihop.format.Chunker;
import dev.ihop.format.ChunkerConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * A check of the JMH figures that holds up on a loaded machine: runs the two sides of
 * each comparison alternately in one JVM and times them by this thread's CPU time rather
 * than wall-clock time, so other processes stealing the CPU barely move the result.
 * Reports the median MiB/s of each side and the ratio.
 *
 * <pre>java -cp target/benchmarks.jar dev.ihop.bench.PairedCpuTime [rounds]</pre>
 */
public final class PairedCpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static int sink;

    record Side(String name, IntSupplier op) {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        byte[] small = random(64 << 10);
        byte[] large = random(16 << 20);
        byte[] out = new byte[64];
        Blake2b ihop = new Blake2b();
        Blake2bDigest bc = new Blake2bDigest(512);

        // 64 KiB messages: 256 per op (16 MiB of input per op) so each op is long enough to time.
        compare("BLAKE2b-512, 64 KiB messages", 256L * small.length, rounds,
                new Side("BouncyCastle", () -> {
                    for (int i = 0; i < 256; i++) {
                        bc.update(small, 0, small.length);
                        bc.doFinal(out, 0);
                    }
                    return out[0];
                }),
                new Side("ihop", () -> {
                    int x = 0;
                    for (int i = 0; i < 256; i++) {
                        x += ihop.update(small, 0, small.length).digest()[0];
                    }
                    return x;
                }));
        compare("BLAKE2b-512, 16 MiB message", large.length, rounds,
                new Side("BouncyCastle", () -> {
                    bc.update(large, 0, large.length);
                    bc.doFinal(out, 0);
                    return out[0];
                }),
                new Side("ihop", () -> ihop.update(large, 0, large.length).digest()[0]));

        byte[] chunkData = random(32 << 20);
        for (ChunkerConfig.Algorithm algorithm : List.of(ChunkerConfig.Algorithm.ROLLSUM, ChunkerConfig.Algorithm.BUZHASH)) {
            ChunkerConfig config = ChunkerConfig.rolling(algorithm, 64 << 10, 16 << 10, 16 << 20, 64);
            compare(algorithm + " chunker over one array, 32 MiB random", chunkData.length, rounds,
                    new Side("baseline", () -> chunkArray(Baseline.newChunker(config), chunkData)),
                    new Side("ihop", () -> chunkArray(config.newChunker(), chunkData)));
            compare(algorithm + " ChunkReader over a stream, 32 MiB random", chunkData.length, rounds,
                    new Side("baseline", () -> chunkStream(new Baseline.ChunkReader(
                            new ByteArrayInputStream(chunkData), Baseline.newChunker(config)))),
                    new Side("ihop", () -> chunkStream(new ChunkReader(new ByteArrayInputStream(chunkData), config.newChunker()))));
        }
        System.out.println("(sink " + sink + ")");
    }

    static int chunkArray(Chunker chunker, byte[] data) {
        int chunks = 0;
        for (int start = 0; start < data.length; chunks++) {
            int length = chunker.findBoundary(data, start, data.length);
            start += length < 0 ? data.length - start : length;
        }
        return chunks;
    }

    interface NextChunk {
        Object next() throws IOException;
    }

    static int chunkStream(Baseline.ChunkReader reader) {
        return count(reader::next);
    }

    static int chunkStream(ChunkReader reader) {
        return count(reader::next);
    }

    private static int count(NextChunk reader) {
        try {
            int chunks = 0;
            while (reader.next() != null) {
                chunks++;
            }
            return chunks;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void compare(String title, long bytesPerOp, int rounds, Side a, Side b) {
        for (int i = 0; i < 5; i++) { // warm-up, both sides
            sink += a.op.getAsInt() + b.op.getAsInt();
        }
        int check = a.op.getAsInt();
        if (check != b.op.getAsInt() && title.contains("chunk")) {
            throw new IllegalStateException(title + ": sides disagree on the chunk count");
        }
        List<Double> ra = new ArrayList<>(), rb = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            ra.add(mibPerSecond(a, bytesPerOp));
            rb.add(mibPerSecond(b, bytesPerOp));
        }
        double ma = median(ra), mb = median(rb);
        System.out.printf("%-55s %-12s %8.1f MiB/s   %-8s %8.1f MiB/s   ratio %.2f%n",
                title, a.name, ma, b.name, mb, mb / ma);
    }

    private static double mibPerSecond(Side side, long bytes) {
        long t0 = THREADS.getCurrentThreadCpuTime();
        sink += side.op.getAsInt();
        long ns = THREADS.getCurrentThreadCpuTime() - t0;
        return bytes / (1024.0 * 1024.0) / (ns / 1e9);
    }

    private static double median(List<Double> xs) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(42).nextBytes(b);
        return b;
    }
}
