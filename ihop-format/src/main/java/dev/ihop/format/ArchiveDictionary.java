package dev.ihop.format;

import java.util.List;
import java.util.Map;

/**
 * What an archive's header says about its source: every field of bita's
 * {@code ChunkDictionary}, validated (see {@link ArchiveHeaderCodec}).
 *
 * @param rebuildOrder descriptor index of every chunk of the source, in source order
 * @param descriptors  unique chunks, in order of first appearance
 */
public record ArchiveDictionary(
        String applicationVersion,
        HashSum sourceChecksum,
        long sourceTotalSize,
        ChunkerConfig chunkerConfig,
        int hashLength,
        Compression compression,
        int[] rebuildOrder,
        List<ChunkDescriptor> descriptors,
        Map<String, byte[]> metadata) {

    /** Sum of the archive sizes of all unique chunks: the bytes a full download fetches. */
    public long compressedSize() {
        long total = 0;
        for (ChunkDescriptor d : descriptors) {
            total += d.archiveSize();
        }
        return total;
    }
}
