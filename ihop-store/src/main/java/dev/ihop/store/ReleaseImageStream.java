package dev.ihop.store;

import dev.ihop.format.Blake2b;
import dev.ihop.format.MalformedInputException;
import dev.ihop.format.VerifiedChunk;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A release's image read from its store, in order, one chunk in memory at a time. Every
 * chunk is checked against its hash before any of its bytes are returned; at the end the
 * whole image is checked against the source checksum, and end of stream is reported only
 * if it matches. A chunk that is missing or wrong fails the read with a message naming
 * the chunk and its offset in the image.
 */
public final class ReleaseImageStream extends InputStream {
    private final Path release;
    private final ChunkStore store;
    private final StoreDictionary dictionary;
    private final Blake2b imageHash = new Blake2b();
    private int position;
    private int currentIndex = -1;
    private byte[] current = new byte[0];
    private int offsetInChunk;
    private long imageOffset;
    private boolean verified;

    public ReleaseImageStream(Path release) throws IOException {
        this.release = release;
        this.store = ChunkStore.ofRelease(release);
        this.dictionary = StoreDictionaryCodec.read(release);
    }

    public StoreDictionary dictionary() {
        return dictionary;
    }

    public long imageSize() {
        return dictionary.sourceTotalSize();
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        while (offsetInChunk == current.length) {
            if (!nextChunk()) {
                return -1;
            }
        }
        int n = Math.min(len, current.length - offsetInChunk);
        System.arraycopy(current, offsetInChunk, b, off, n);
        offsetInChunk += n;
        return n;
    }

    private boolean nextChunk() throws IOException {
        imageOffset += current.length;
        if (position == dictionary.sourceOrder().length) {
            if (!verified) {
                if (!imageHash.sum().equals(dictionary.sourceChecksum())) {
                    throw new MalformedInputException(release + ": rebuilt image does not match the release's source checksum");
                }
                verified = true;
            }
            current = new byte[0];
            offsetInChunk = 0;
            return false;
        }
        int index = dictionary.sourceOrder()[position++];
        if (index != currentIndex) {
            StoreDictionary.StoreChunk c = dictionary.chunks().get(index);
            byte[] data;
            try {
                data = store.readChunk(c.checksum(), c.sourceSize());
            } catch (NoSuchFileException e) {
                throw new IOException(release + ": chunk " + c.checksum().hex() + " (image offset " + imageOffset
                        + ") is missing from the store; ihop verify --repair can fetch it");
            } catch (IOException e) {
                throw new IOException(release + ": chunk " + c.checksum().hex() + " (image offset " + imageOffset + "): "
                        + e.getMessage() + "; ihop verify --repair can fetch it", e);
            }
            try {
                current = VerifiedChunk.verify(data, c.checksum(), release + ": image offset " + imageOffset).data();
            } catch (MalformedInputException e) {
                throw new MalformedInputException(e.getMessage() + "; ihop verify --repair can fetch it", e);
            }
            currentIndex = index;
        }
        imageHash.update(current);
        offsetInChunk = 0;
        return true;
    }

}
