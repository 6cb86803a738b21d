package dev.ihop.format;

/**
 * Finds chunk boundaries. A chunker sees the bytes of the current chunk from its start,
 * possibly over several calls as more input arrives, and keeps its state (the rolling
 * hash is never reset between chunks), so results do not depend on how input is split.
 * Use {@link ChunkReader} to cut a stream.
 */
public interface Chunker {
    /**
     * Scans the current chunk, whose bytes so far are {@code buf[start, end)}. Bytes that
     * were scanned by an earlier call for this chunk are not scanned again.
     *
     * @return the chunk's length if a boundary lies within {@code [start, end)}, else -1
     *         (the caller must supply more bytes of the same chunk, starting again at
     *         {@code start}, or emit the rest at end of input)
     */
    int findBoundary(byte[] buf, int start, int end);

    /** Largest chunk this chunker produces. */
    int maxChunkSize();
}
