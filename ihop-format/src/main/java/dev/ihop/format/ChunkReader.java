package dev.ihop.format;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Cuts a stream into chunks with a {@link Chunker}, holding at most one maximum-size
 * chunk plus one read block in memory, whatever the stream's length.
 */
public final class ChunkReader {
    private static final int DEFAULT_readBlock = 1 << 20;

    /** A chunk of the source: its offset in the source and its bytes (owned by the caller). */
    public record Chunk(long offset, byte[] data) {
        public int length() {
            return data.length;
        }
    }

    private final InputStream in;
    private final Chunker chunker;
    private final int readBlock;
    private final byte[] buf;
    private int start;
    private int end;
    private long offset;
    private boolean eof;

    public ChunkReader(InputStream in, Chunker chunker) {
        this(in, chunker, DEFAULT_readBlock);
    }

    /** {@code readBlock}: bytes read per refill (tests use tiny ones). */
    ChunkReader(InputStream in, Chunker chunker, int readBlock) {
        this.in = in;
        this.chunker = chunker;
        this.readBlock = readBlock;
        this.buf = new byte[chunker.maxChunkSize() + readBlock];
    }

    /** The next chunk, or null at the end of the stream. */
    public Chunk next() throws IOException {
        while (true) {
            int length = start < end ? chunker.findBoundary(buf, start, end) : -1;
            if (length < 0 && eof) {
                if (start == end) {
                    return null;
                }
                length = end - start;
            }
            if (length >= 0) {
                Chunk chunk = new Chunk(offset, Arrays.copyOfRange(buf, start, start + length));
                start += length;
                offset += length;
                return chunk;
            }
            fill();
        }
    }

    private void fill() throws IOException {
        if (buf.length - end < readBlock) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        int n = in.readNBytes(buf, end, Math.min(readBlock, buf.length - end));
        if (n == 0) {
            eof = true;
        }
        end += n;
    }
}
