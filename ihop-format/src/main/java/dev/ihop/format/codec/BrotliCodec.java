package dev.ihop.format.codec;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.DecoderJNI;
import com.aayushatharva.brotli4j.encoder.Encoder;
import dev.ihop.format.MalformedInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** A bare brotli stream per chunk (brotli4j, Google's native brotli). */
public final class BrotliCodec implements ChunkCodec {
    private final Encoder.Parameters parameters;

    public BrotliCodec(int quality) {
        Brotli4jLoader.ensureAvailability();
        this.parameters = new Encoder.Parameters().setQuality(quality);
    }

    @Override
    public byte[] compress(byte[] data, int offset, int length) throws IOException {
        byte[] input = offset == 0 && length == data.length ? data : Arrays.copyOfRange(data, offset, offset + length);
        return Encoder.compress(input, parameters);
    }

    /**
     * Drives brotli4j's decoder directly: its one-shot {@code Decoder.decompress} has no
     * output bound, and its {@code BrotliInputStream} fails on valid streams that end
     * exactly at the last output byte.
     */
    @Override
    public byte[] decompress(byte[] data, int offset, int length, int sourceSize) throws MalformedInputException {
        DecoderJNI.Wrapper decoder;
        try {
            decoder = new DecoderJNI.Wrapper(Math.max(1, length));
        } catch (IOException e) {
            throw new MalformedInputException("brotli decoder could not start: " + e.getMessage(), e);
        }
        try {
            decoder.getInputBuffer().put(data, offset, length);
            decoder.push(length);
            byte[] out = new byte[sourceSize];
            int produced = 0;
            while (true) {
                switch (decoder.getStatus()) {
                    case DONE, NEEDS_MORE_OUTPUT, OK -> {
                        if (decoder.hasOutput()) {
                            ByteBuffer piece = decoder.pull();
                            if (piece.remaining() > sourceSize - produced) {
                                throw ChunkCodec.wrongSize("brotli", (long) produced + piece.remaining(), sourceSize);
                            }
                            int n = piece.remaining();
                            piece.get(out, produced, n);
                            produced += n;
                        } else if (decoder.getStatus() == DecoderJNI.Status.DONE) {
                            if (produced != sourceSize) {
                                throw ChunkCodec.wrongSize("brotli", produced, sourceSize);
                            }
                            return out;
                        } else if (decoder.getStatus() == DecoderJNI.Status.OK) {
                            decoder.push(0);
                        }
                    }
                    case NEEDS_MORE_INPUT -> {
                        // The decoder may still hold buffered input: let it finish once.
                        decoder.push(0);
                        if (decoder.getStatus() == DecoderJNI.Status.NEEDS_MORE_INPUT) {
                            throw new MalformedInputException("brotli chunk is truncated");
                        }
                    }
                    default -> throw new MalformedInputException("brotli chunk is corrupt");
                }
            }
        } finally {
            decoder.destroy();
        }
    }
}
