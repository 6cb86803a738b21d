package dev.ihop.format;

import java.util.Objects;

/** A span of bytes in an archive or image: {@code [offset, offset + length)}. */
public record ByteRange(long offset, int length) {
    public ByteRange {
        if (offset < 0 || length < 0 || offset + length < 0) {
            throw new IllegalArgumentException("bad range " + offset + "+" + length);
        }
    }

    public long end() {
        return offset + length;
    }

    @Override
    public String toString() {
        return "[" + offset + ", " + end() + ")";
    }

    static void checkSorted(java.util.List<ByteRange> ranges) {
        long end = 0;
        for (ByteRange r : ranges) {
            Objects.requireNonNull(r);
            if (r.offset < end) {
                throw new IllegalArgumentException("ranges must be sorted and must not overlap: " + r);
            }
            end = r.end();
        }
    }
}
