package dev.ihop.format;

/**
 * bita's RollSum (a bup-style rolling checksum, FORMATS.md section 4): two 32-bit sums
 * over a window, offset constant 31, boundary when the low filter bits are all ones.
 *
 * <p>The specification keeps a ring of the last {@code window} bytes fed, to know the
 * byte leaving the window. Within a chunk every byte from the first one fed up to the
 * boundary is fed (only the skip step leaves bytes out, and only before that), so once
 * {@code window} bytes of the chunk have been fed the leaving byte is simply the input
 * byte {@code window} positions back, {@code buf[i - window]}; the caller keeps the whole
 * current chunk in {@code buf}. Only the first {@code window} bytes fed in a chunk need
 * the bytes fed before it, which {@link #history} holds. This drops the ring's store and
 * index wrap-around from the per-byte loop (see bench/jmh/README.md for the gain).
 */
public final class RollSumChunker extends RollingChunker {
    private static final int CHAR_OFFSET = 31;
    /**
     * The last {@code window} bytes fed before the current chunk's first fed byte, oldest
     * first: what the specification's ring holds at that point (zeros at the start of the
     * input).
     */
    private final byte[] history;
    /** Position in the current chunk of its first fed byte, or -1 before any is fed. */
    private int firstFed = -1;
    private int s1;
    private int s2;

    RollSumChunker(ChunkerConfig config) {
        super(config);
        history = new byte[window];
        s1 = window * CHAR_OFFSET;
        s2 = window * (window - 1) * CHAR_OFFSET;
    }

    @Override
    protected void feed(byte[] buf, int start, int from, int to) {
        int s1 = this.s1, s2 = this.s2;
        final int w = window;
        final int fedStart = fedStart(start, from);
        final int split = Math.max(from, Math.min(to, fedStart + w));
        int i = from;
        for (; i < split; i++) { // leaving byte fed before this chunk's first fed byte
            int in = buf[i] & 0xFF;
            int out = history[i - fedStart] & 0xFF;
            s1 += in - out;
            s2 += s1 - w * (out + CHAR_OFFSET);
        }
        for (; i < to; i++) {
            int in = buf[i] & 0xFF;
            int out = buf[i - w] & 0xFF;
            s1 += in - out;
            s2 += s1 - w * (out + CHAR_OFFSET);
        }
        this.s1 = s1;
        this.s2 = s2;
    }

    @Override
    protected int feedUntilBoundary(byte[] buf, int start, int from, int to) {
        int s1 = this.s1, s2 = this.s2;
        final int w = window, mask = this.mask;
        final int fedStart = fedStart(start, from);
        final int split = Math.max(from, Math.min(to, fedStart + w));
        int hit = -1;
        int i = from;
        for (; i < split; i++) { // leaving byte fed before this chunk's first fed byte
            int in = buf[i] & 0xFF;
            int out = history[i - fedStart] & 0xFF;
            s1 += in - out;
            s2 += s1 - w * (out + CHAR_OFFSET);
            if ((((s1 << 16) | (s2 & 0xFFFF)) & mask) == mask) {
                hit = i + 1;
                break;
            }
        }
        if (hit < 0) {
            for (; i < to; i++) {
                int in = buf[i] & 0xFF;
                int out = buf[i - w] & 0xFF;
                s1 += in - out;
                s2 += s1 - w * (out + CHAR_OFFSET);
                if ((((s1 << 16) | (s2 & 0xFFFF)) & mask) == mask) {
                    hit = i + 1;
                    break;
                }
            }
        }
        this.s1 = s1;
        this.s2 = s2;
        return hit;
    }

    /** Index in {@code buf} of the current chunk's first fed byte, noting it on the first feed. */
    private int fedStart(int start, int from) {
        if (firstFed < 0) {
            firstFed = from - start;
        }
        return start + firstFed;
    }

    /** Moves the chunk's fed tail into {@link #history} for the next chunk. */
    @Override
    protected void chunkEnded(byte[] buf, int start, int length) {
        int fed = firstFed < 0 ? 0 : length - firstFed;
        int w = window;
        if (fed >= w) {
            System.arraycopy(buf, start + length - w, history, 0, w);
        } else {
            // A chunk shorter than the window (min < window): the older bytes stay.
            System.arraycopy(history, fed, history, 0, w - fed);
            System.arraycopy(buf, start + length - fed, history, w - fed, fed);
        }
        firstFed = -1;
    }
}
