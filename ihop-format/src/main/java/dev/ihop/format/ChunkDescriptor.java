package dev.ihop.format;

/**
 * One unique chunk of an archive. {@code archiveOffset} is relative to the archive's chunk
 * data; the chunk is stored raw exactly when {@code archiveSize == sourceSize}.
 */
public record ChunkDescriptor(HashSum checksum, int archiveSize, long archiveOffset, int sourceSize) {

    public boolean storedRaw() {
        return archiveSize == sourceSize;
    }
}
