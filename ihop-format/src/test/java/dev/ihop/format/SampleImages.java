package dev.ihop.format;

import java.util.Random;

/** Synthetic images for tests; the same seed always gives the same bytes. */
public final class SampleImages {
    private SampleImages() {
    }

    /** Random blocks, repeats of them, zeros and text: compressible, incompressible and duplicate chunks. */
    public static byte[] image(long seed, int size) {
        Random random = new Random(seed);
        byte[] data = new byte[size];
        byte[] block = new byte[40_000];
        random.nextBytes(block);
        int pos = 0;
        while (pos < size) {
            int n = Math.min(size - pos, 10_000 + random.nextInt(60_000));
            switch (random.nextInt(4)) {
                case 0 -> {
                    byte[] r = new byte[n];
                    random.nextBytes(r);
                    System.arraycopy(r, 0, data, pos, n);
                }
                case 1 -> System.arraycopy(block, 0, data, pos, Math.min(n, block.length));
                case 2 -> { } // zeros
                default -> {
                    for (int i = 0; i < n; i++) {
                        data[pos + i] = (byte) ("the quick brown fox ".charAt(i % 20));
                    }
                }
            }
            pos += n;
        }
        return data;
    }


    /**
     * A "next release" of {@code v1}: a few regions rewritten and some bytes inserted, so
     * most chunks are shared and some are new.
     */
    public static byte[] nextRelease(byte[] v1, long seed) {
        Random random = new Random(seed);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(v1.length + 100_000);
        int pos = 0;
        int step = Math.max(1, v1.length / 6);
        while (pos < v1.length) {
            int keep = Math.min(v1.length - pos, step);
            out.write(v1, pos, keep);
            pos += keep;
            byte[] fresh = new byte[5_000 + random.nextInt(20_000)];
            random.nextBytes(fresh);
            out.write(fresh, 0, fresh.length);
            pos += Math.min(v1.length - pos, fresh.length / 2); // replaces some bytes, inserts the rest
        }
        return out.toByteArray();
    }
}
