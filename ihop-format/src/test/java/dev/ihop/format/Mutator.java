package dev.ihop.format;

import java.util.Arrays;
import java.util.Random;

/**
 * A seeded byte-level mutator for the fuzz tests: bit flips, byte sets, truncations,
 * insertions, deletions, duplicated slices, and splices of interesting values (0, all
 * ones, 2^31, 2^32-1, 2^63, ...) as little-endian integers and as protobuf varints, so
 * that lengths, counts and offsets hit their limits.
 */
public final class Mutator {
    private static final long[] INTERESTING = {
        0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32,
        Long.MAX_VALUE, Long.MIN_VALUE, -1L, 64, 65, 16 << 20, 512 << 20,
    };

    private final Random random;

    public Mutator(long seed) {
        this.random = new Random(seed);
    }

    public Random random() {
        return random;
    }

    /** One to four mutations of {@code input} (which is not changed). */
    public byte[] mutate(byte[] input) {
        byte[] b = input.clone();
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            b = mutateOnce(b);
        }
        return b;
    }

    private byte[] mutateOnce(byte[] b) {
        if (b.length == 0) {
            return new byte[] {(byte) random.nextInt()};
        }
        int at = random.nextInt(b.length);
        switch (random.nextInt(9)) {
            case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> b[at] = (byte) INTERESTING[random.nextInt(INTERESTING.length)];
            case 2 -> b[at] = (byte) random.nextInt();
            case 3 -> {
                return Arrays.copyOf(b, random.nextInt(b.length));
            }
            case 4 -> {
                long v = INTERESTING[random.nextInt(INTERESTING.length)];
                int width = random.nextBoolean() ? 8 : 4;
                for (int i = 0; i < width && at + i < b.length; i++) {
                    b[at + i] = (byte) (v >>> (8 * i));
                }
            }
            case 5 -> {
                byte[] varint = varint(INTERESTING[random.nextInt(INTERESTING.length)]);
                return splice(b, at, random.nextInt(Math.min(10, b.length - at) + 1), varint);
            }
            case 6 -> {
                byte[] junk = new byte[1 + random.nextInt(16)];
                random.nextBytes(junk);
                return splice(b, at, 0, junk);
            }
            case 7 -> {
                return splice(b, at, random.nextInt(Math.min(32, b.length - at) + 1), new byte[0]);
            }
            default -> {
                int len = random.nextInt(Math.min(64, b.length - at) + 1);
                return splice(b, random.nextInt(b.length), 0, Arrays.copyOfRange(b, at, at + len));
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] out = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
        return out;
    }

    static byte[] varint(long v) {
        byte[] out = new byte[10];
        int n = 0;
        while ((v & ~0x7FL) != 0) {
            out[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[n++] = (byte) v;
        return Arrays.copyOf(out, n);
    }
}
