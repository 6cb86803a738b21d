package dev.ihop.format.codec;

import dev.ihop.format.MalformedInputException;
import java.util.Arrays;

/** No compression: chunks are stored raw. */
public final class NoneCodec implements ChunkCodec {
    public static final NoneCodec INSTANCE = new NoneCodec();

    private NoneCodec() {
    }

    @Override
    public byte[] compress(byte[] data, int offset, int length) {
        return Arrays.copyOfRange(data, offset, offset + length);
    }

    @Override
    public byte[] decompress(byte[] data, int offset, int length, int sourceSize) throws MalformedInputException {
        if (length != sourceSize) {
            throw ChunkCodec.wrongSize("uncompressed", length, sourceSize);
        }
        return Arrays.copyOfRange(data, offset, offset + length);
    }
}
