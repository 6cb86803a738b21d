package dev.ihop.format;

/**
 * The boundary search bita runs with a rolling hash (FORMATS.md section 4): skip to the
 * window before the minimum size, pre-feed up to {@code min - 1} bytes, then feed and
 * test each byte until the filter matches or the maximum size is reached. Subclasses
 * supply the hash; the per-byte loops live in them so the hash inlines.
 */
abstract sealed class RollingChunker implements Chunker permits RollSumChunker, BuzHashChunker {
    protected final int min;
    protected final int max;
    protected final int window;
    protected final int mask;
    /** Bytes of the current chunk consumed so far. */
    private int pos;

    RollingChunker(ChunkerConfig config) {
        this.min = config.minSize();
        this.max = config.maxSize();
        this.window = config.windowSize();
        this.mask = config.filterMask();
    }

    @Override
    public final int maxChunkSize() {
        return max;
    }

    /** Feeds {@code buf[from, to)} without testing. */
    protected abstract void feed(byte[] buf, int from, int to);

    /**
     * Feeds {@code buf[from, to)}, testing after each byte.
     * @return index just past the byte where the filter matched, or -1
     */
    protected abstract int feedUntilBoundary(byte[] buf, int from, int to);

    /**
     * Called until it reports the start-up done, with the current chunk's position; may
     * consume bytes (BuzHash initialises its window on the first bytes of the input).
     * @return the new position
     */
    protected int initialFeed(byte[] buf, int start, int end, int pos) {
        return pos;
    }

    /** True once {@link #initialFeed} has nothing more to do. */
    protected boolean initialised() {
        return true;
    }

    /** Whether the skip step has run for the current chunk. */
    private boolean skipped;

    @Override
    public final int findBoundary(byte[] buf, int start, int end) {
        int available = end - start;
        if (!skipped) {
            if (!initialised()) {
                pos = initialFeed(buf, start, end, pos);
                if (!initialised()) {
                    return -1;
                }
            }
            int skipTo = min >= window ? min - window : 0;
            if (skipTo > 0 && pos < skipTo) {
                pos = skipTo - 1;
            }
            skipped = true;
        }
        if (min > 0 && pos < min - 1) {
            int to = Math.min(min - 1, available);
            if (pos < to) {
                feed(buf, start + pos, start + to);
                pos = to;
            }
            if (pos < min - 1) {
                return -1;
            }
        }
        int limit = Math.min(max, available);
        if (pos < limit) {
            int hit = feedUntilBoundary(buf, start + pos, start + limit);
            if (hit >= 0) {
                return emit(hit - start);
            }
            pos = limit;
        }
        return pos >= max ? emit(pos) : -1;
    }

    private int emit(int length) {
        pos = 0;
        skipped = false;
        return length;
    }
}
