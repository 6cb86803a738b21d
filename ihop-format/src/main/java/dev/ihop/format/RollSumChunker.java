package dev.ihop.format;

/**
 * bita's RollSum (a bup-style rolling checksum, FORMATS.md section 4): two 32-bit sums
 * over a window, offset constant 31, boundary when the low filter bits are all ones.
 */
public final class RollSumChunker extends RollingChunker {
    private static final int CHAR_OFFSET = 31;
    private final byte[] ring;
    private int index;
    private int s1;
    private int s2;

    RollSumChunker(ChunkerConfig config) {
        super(config);
        ring = new byte[window];
        s1 = window * CHAR_OFFSET;
        s2 = window * (window - 1) * CHAR_OFFSET;
    }

    @Override
    protected void feed(byte[] buf, int from, int to) {
        int s1 = this.s1, s2 = this.s2, index = this.index;
        final byte[] ring = this.ring;
        final int w = window;
        for (int i = from; i < to; i++) {
            int in = buf[i] & 0xFF;
            int out = ring[index] & 0xFF;
            s1 += in - out;
            s2 += s1 - w * (out + CHAR_OFFSET);
            ring[index] = (byte) in;
            if (++index == w) {
                index = 0;
            }
        }
        this.s1 = s1;
        this.s2 = s2;
        this.index = index;
    }

    @Override
    protected int feedUntilBoundary(byte[] buf, int from, int to) {
        int s1 = this.s1, s2 = this.s2, index = this.index;
        final byte[] ring = this.ring;
        final int w = window, mask = this.mask;
        int hit = -1;
        for (int i = from; i < to; i++) {
            int in = buf[i] & 0xFF;
            int out = ring[index] & 0xFF;
            s1 += in - out;
            s2 += s1 - w * (out + CHAR_OFFSET);
            ring[index] = (byte) in;
            if (++index == w) {
                index = 0;
            }
            if ((((s1 << 16) | (s2 & 0xFFFF)) & mask) == mask) {
                hit = i + 1;
                break;
            }
        }
        this.s1 = s1;
        this.s2 = s2;
        this.index = index;
        return hit;
    }
}
