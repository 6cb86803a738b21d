package dev.ihop.format.codec;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import dev.ihop.format.MalformedInputException;
import java.util.Arrays;

/**
 * One zstd frame per chunk (zstd-jni). Decoding writes into a buffer of exactly the
 * declared size, so a frame without a content size, or a lying one, cannot overrun it.
 */
public final class ZstdCodec implements ChunkCodec {
    private final int level;

    public ZstdCodec(int level) {
        this.level = level;
    }

    @Override
    public byte[] compress(byte[] data, int offset, int length) {
        byte[] dst = new byte[(int) Zstd.compressBound(length)];
        long n = Zstd.compressByteArray(dst, 0, dst.length, data, offset, length, level);
        return Arrays.copyOf(dst, (int) n);
    }

    @Override
    public byte[] decompress(byte[] data, int offset, int length, int sourceSize) throws MalformedInputException {
        byte[] out = new byte[sourceSize];
        long n;
        try {
            n = Zstd.decompressByteArray(out, 0, sourceSize, data, offset, length);
        } catch (ZstdException e) {
            throw new MalformedInputException("zstd chunk does not decode to " + sourceSize + " bytes: " + e.getMessage());
        }
        if (n != sourceSize) {
            throw ChunkCodec.wrongSize("zstd", n, sourceSize);
        }
        return out;
    }
}
