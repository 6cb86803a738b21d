package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The optimised rolling chunkers against a literal transcription of FORMATS.md section 4
 * (ring buffer, one byte at a time, whole input at once), on data and parameters the
 * golden files do not cover: random data with the skip step (min > window), chunks shorter
 * than the window, min 0, min = window and window + 1, runs for BuzHash's repeat quirk,
 * and input arriving in pieces of many sizes.
 */
class RollingChunkerReferenceTest {

    /** FORMATS.md's hashers, written for clarity, not speed. */
    interface Hasher {
        void init(int v);

        boolean full();

        void feed(int v);

        int sum();
    }

    static final class RollSum implements Hasher {
        final int w;
        final int[] ring;
        int index;
        int s1;
        int s2;

        RollSum(int w) {
            this.w = w;
            ring = new int[w];
            s1 = w * 31;
            s2 = w * (w - 1) * 31;
        }

        @Override
        public void init(int v) {
            throw new AssertionError("RollSum has no init");
        }

        @Override
        public boolean full() {
            return true;
        }

        @Override
        public void feed(int b) {
            int out = ring[index];
            s1 += b - out;
            s2 += s1 - w * (out + 31);
            ring[index] = b;
            index = (index + 1) % w;
        }

        @Override
        public int sum() {
            return (s1 << 16) | (s2 & 0xFFFF);
        }
    }

    static final class BuzHash implements Hasher {
        static final int[] T = table();
        final int w;
        final int[] ring;
        int index;
        int sum;
        boolean full;
        int last;
        int repeats;

        BuzHash(int w) {
            this.w = w;
            ring = new int[w];
        }

        static int[] table() {
            // Recover the seeded table from the chunker: a window-1 BuzHash fed one byte
            // value from a zero state has sum T[v] after init.
            int[] t = new int[256];
            for (int v = 0; v < 256; v++) {
                BuzHashChunker c = new BuzHashChunker(ChunkerConfig.rolling(ChunkerConfig.Algorithm.BUZHASH, 4, 0, 1, 1));
                c.initialFeed(new byte[] {(byte) v}, 0, 1, 0);
                t[v] = sumOf(c);
            }
            return t;
        }

        @Override
        public void init(int v) {
            int t = T[v];
            sum ^= Integer.rotateLeft(t, w - (index + 1));
            full = index >= w - 1;
            ring[index] = t;
            index = (index + 1) % w;
        }

        @Override
        public boolean full() {
            return full;
        }

        @Override
        public void feed(int v) {
            if (v == last) {
                repeats++;
            } else {
                repeats = 0;
                last = v;
            }
            if (repeats < w) {
                int t = T[v];
                int out = ring[index];
                sum = Integer.rotateLeft(sum, 1) ^ Integer.rotateLeft(out, w) ^ t;
                ring[index] = t;
                index = (index + 1) % w;
            }
        }

        @Override
        public int sum() {
            return sum;
        }
    }

    /** BuzHashChunker's private sum, through the one window-1 init it has run. */
    private static int sumOf(BuzHashChunker c) {
        // After init of one byte with window 1 the chunker's sum is T[v]; read it by
        // feeding nothing and testing every bit pattern would be slow, so use reflection.
        try {
            var f = BuzHashChunker.class.getDeclaredField("sum");
            f.setAccessible(true);
            return f.getInt(c);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** Chunk lengths by FORMATS.md section 4, step by step. */
    static List<Integer> reference(byte[] data, ChunkerConfig config) {
        int w = config.windowSize(), min = config.minSize(), max = config.maxSize(), mask = config.filterMask();
        Hasher h = config.algorithm() == ChunkerConfig.Algorithm.ROLLSUM ? new RollSum(w) : new BuzHash(w);
        List<Integer> lengths = new ArrayList<>();
        int off = 0;
        while (off < data.length) {
            int pos = 0;
            while (!h.full() && off + pos < data.length) {
                h.init(data[off + pos] & 0xFF);
                pos++;
            }
            int limit = min >= w ? min - w : 0;
            if (limit > 0 && pos < limit) {
                pos = limit - 1;
            }
            if (min > 0 && pos < min) {
                while (pos < min - 1 && off + pos < data.length) {
                    h.feed(data[off + pos] & 0xFF);
                    pos++;
                }
            }
            boolean boundary = false;
            while (pos < max && off + pos < data.length) {
                h.feed(data[off + pos] & 0xFF);
                pos++;
                if ((h.sum() & mask) == mask) {
                    boundary = true;
                    break;
                }
            }
            int length = boundary || pos >= max ? pos : data.length - off;
            lengths.add(length);
            off += length;
        }
        return lengths;
    }

    static List<Integer> optimised(byte[] data, ChunkerConfig config, int piece) throws IOException {
        ChunkReader reader = new ChunkReader(new ByteArrayInputStream(data), config.newChunker(), piece);
        List<Integer> lengths = new ArrayList<>();
        for (ChunkReader.Chunk c; (c = reader.next()) != null; ) {
            lengths.add(c.length());
        }
        return lengths;
    }

    /** Random stretches mixed with runs of one byte value (BuzHash's repeat rule). */
    static byte[] data(long seed, int size, boolean runs) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] b = new byte[size];
        random.nextBytes(b);
        if (runs) {
            for (int i = 0; i < size; ) {
                int n = random.nextInt(1, 200);
                if (random.nextBoolean()) {
                    java.util.Arrays.fill(b, i, Math.min(size, i + n), (byte) random.nextInt(3));
                }
                i += n;
            }
        }
        return b;
    }

    static Stream<Arguments> cases() {
        // avg, min, max, window
        int[][] params = {
            {256, 10, 512, 16},   // min < window: no skip, every byte fed
            {64, 3, 50, 32},      // chunks often shorter than the window
            {64, 0, 100, 8},      // min 0
            {256, 16, 512, 16},   // min = window: skip target 0, no skip
            {256, 17, 512, 16},   // min = window + 1: skip to position 0
            {256, 100, 1000, 16}, // skip
            {1024, 300, 600, 64}, // skip, many max-size chunks
            {4096, 2000, 3000, 4096}, // window as large as allowed, no skip
        };
        List<Arguments> cases = new ArrayList<>();
        for (ChunkerConfig.Algorithm algorithm : List.of(ChunkerConfig.Algorithm.ROLLSUM, ChunkerConfig.Algorithm.BUZHASH)) {
            for (int[] p : params) {
                for (boolean runs : List.of(false, true)) {
                    cases.add(Arguments.of(ChunkerConfig.rolling(algorithm, p[0], p[1], p[2], p[3]), runs));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, runs {1}")
    @MethodSource("cases")
    void matchesTheSpecification(ChunkerConfig config, boolean runs) throws IOException {
        byte[] data = data(config.hashCode(), 150_000, runs);
        List<Integer> expected = reference(data, config);
        assertTrue(expected.size() > 20, "the case should cut many chunks: " + expected.size());
        for (int piece : new int[] {1, 13, 4096, 1 << 20}) {
            assertEquals(expected, optimised(data, config, piece), "read " + piece + " bytes at a time");
        }
    }
}
