package dev.ihop.format;

import dev.ihop.format.codec.ChunkCodec;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;

/** An opened bita archive: its verified header and the source of its chunk data. */
public final class Archive implements Closeable {
    private final ArchiveSource source;
    private final ArchiveHeader header;
    private final ChunkCodec codec;

    private Archive(ArchiveSource source, ArchiveHeader header) {
        this.source = source;
        this.header = header;
        this.codec = header.dictionary().compression().decoder();
    }

    /** Reads and verifies the header; the archive then owns {@code source}. */
    public static Archive open(ArchiveSource source) throws IOException {
        try {
            return new Archive(source, ArchiveHeaderCodec.read(source));
        } catch (IOException | RuntimeException e) {
            source.close();
            throw e;
        }
    }

    public ArchiveHeader header() {
        return header;
    }

    public ArchiveDictionary dictionary() {
        return header.dictionary();
    }

    public ArchiveSource source() {
        return source;
    }

    /**
     * Decompresses a chunk's stored bytes (skipped when stored raw) and checks its hash.
     * {@code stored} is taken over: a raw chunk becomes the verified chunk without a copy.
     */
    public VerifiedChunk decode(ChunkDescriptor d, byte[] stored) throws MalformedInputException {
        String where = source.describe();
        if (stored.length != d.archiveSize()) {
            throw new MalformedInputException(where + ": chunk " + d.checksum().hex() + " is " + stored.length
                    + " bytes, expected " + d.archiveSize());
        }
        byte[] data;
        try {
            data = d.storedRaw() ? stored : codec.decompress(stored, 0, stored.length, d.sourceSize());
        } catch (MalformedInputException e) {
            throw new MalformedInputException(where + ": chunk " + d.checksum().hex() + ": " + e.getMessage(), e);
        }
        return VerifiedChunk.verify(data, d.checksum(), where);
    }

    /** Reads one chunk from the archive, decompressed and verified. */
    public VerifiedChunk readChunk(ChunkDescriptor d) throws IOException {
        ByteRange r = header.rangeOf(d);
        return decode(d, source.read(r.offset(), r.length()));
    }

    /**
     * Writes the whole source image to {@code out}, each unique chunk fetched once (and
     * held only while it repeats nearby), verifying every chunk and the source checksum.
     */
    public void extractTo(OutputStream out) throws IOException {
        ArchiveDictionary d = dictionary();
        Blake2b sourceHash = new Blake2b();
        int[] order = d.rebuildOrder();
        int last = -1;
        VerifiedChunk chunk = null;
        for (int index : order) {
            if (index != last) {
                chunk = readChunk(d.descriptors().get(index));
                last = index;
            }
            out.write(chunk.data());
            sourceHash.update(chunk.data());
        }
        HashSum actual = sourceHash.sum();
        if (!actual.equals(d.sourceChecksum())) {
            throw new MalformedInputException(source.describe() + ": rebuilt image does not match the source checksum");
        }
    }

    @Override
    public void close() throws IOException {
        source.close();
    }
}
