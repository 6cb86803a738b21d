package dev.ihop.format.codec;

import dev.ihop.format.MalformedInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.UnsupportedOptionsException;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

/** bita's "LZMA": an .xz stream (CRC64 check) per chunk, via XZ for Java. */
public final class XzCodec implements ChunkCodec {
    /** Decoder memory cap in KiB: enough for preset 9 (64 MiB dictionary) and no more. */
    private static final int MEMORY_LIMIT_KIB = 96 << 10;
    private final LZMA2Options options;

    public XzCodec(int preset) {
        try {
            this.options = new LZMA2Options(preset);
        } catch (UnsupportedOptionsException e) {
            throw new IllegalArgumentException("xz preset " + preset + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] compress(byte[] data, int offset, int length) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(length / 2 + 64);
        try (XZOutputStream xz = new XZOutputStream(out, options, XZ.CHECK_CRC64)) {
            xz.write(data, offset, length);
        }
        return out.toByteArray();
    }

    @Override
    public byte[] decompress(byte[] data, int offset, int length, int sourceSize) throws MalformedInputException {
        XZInputStream in;
        try {
            in = new XZInputStream(new ByteArrayInputStream(data, offset, length), MEMORY_LIMIT_KIB);
        } catch (IOException e) {
            throw new MalformedInputException("xz chunk is corrupt: " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new MalformedInputException("xz chunk is corrupt: " + e.getMessage(), e);
        }
        return BoundedStreams.readExactly("xz", in, sourceSize);
    }
}
