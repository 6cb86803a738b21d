package dev.ihop.format;

/**
 * A decoded, checksum-verified archive header.
 *
 * @param size            header bytes: pre-header, dictionary, data offset, checksum
 * @param chunkDataOffset absolute file offset where chunk data starts
 * @param checksum        BLAKE2b-512 of the header bytes before it: what a device pins
 */
public record ArchiveHeader(ArchiveDictionary dictionary, int size, long chunkDataOffset, HashSum checksum) {

    /** Absolute byte range of a chunk's stored bytes in the archive. */
    public ByteRange rangeOf(ChunkDescriptor d) {
        return new ByteRange(chunkDataOffset + d.archiveOffset(), d.archiveSize());
    }
}
