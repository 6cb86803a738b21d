package dev.ihop.format;

/** Every {@code size} bytes; the remainder is the last chunk. */
public final class FixedSizeChunker implements Chunker {
    private final int size;

    public FixedSizeChunker(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("fixed chunk size must be positive: " + size);
        }
        this.size = size;
    }

    @Override
    public int findBoundary(byte[] buf, int start, int end) {
        return end - start >= size ? size : -1;
    }

    @Override
    public int maxChunkSize() {
        return size;
    }
}
