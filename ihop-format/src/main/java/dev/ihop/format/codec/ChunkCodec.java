package dev.ihop.format.codec;

import dev.ihop.format.MalformedInputException;
import java.io.IOException;

/** Compresses and decompresses single chunks. Implementations are thread-safe. */
public interface ChunkCodec {

    /** The compressed form of {@code data[offset, offset+length)}. */
    byte[] compress(byte[] data, int offset, int length) throws IOException;

    /**
     * Decompresses {@code data[offset, offset+length)}, which must expand to exactly
     * {@code sourceSize} bytes; never produces more than that (a hostile chunk cannot
     * inflate without bound).
     */
    byte[] decompress(byte[] data, int offset, int length, int sourceSize) throws MalformedInputException;

    static MalformedInputException wrongSize(String codec, long got, int expected) {
        return new MalformedInputException(codec + " chunk decompressed to " + (got > expected ? "more than " + expected : got)
                + " bytes, expected " + expected);
    }
}
