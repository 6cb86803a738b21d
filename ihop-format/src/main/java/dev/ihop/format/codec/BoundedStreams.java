package dev.ihop.format.codec;

import dev.ihop.format.MalformedInputException;
import java.io.IOException;
import java.io.InputStream;

/** Reads a decoder stream into exactly {@code size} bytes, refusing any more. */
final class BoundedStreams {
    private BoundedStreams() {
    }

    static byte[] readExactly(String codec, InputStream decoded, int size) throws MalformedInputException {
        try (decoded) {
            byte[] out = new byte[size];
            int n = decoded.readNBytes(out, 0, size);
            if (n != size) {
                throw ChunkCodec.wrongSize(codec, n, size);
            }
            if (decoded.read() != -1) {
                throw ChunkCodec.wrongSize(codec, size + 1L, size);
            }
            return out;
        } catch (MalformedInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new MalformedInputException(codec + " chunk is corrupt: " + e.getMessage(), e);
        }
    }
}
