package dev.ihop.store;

import dev.ihop.format.ArchiveDictionary;
import dev.ihop.format.ChunkDescriptor;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import java.util.ArrayList;
import java.util.List;

/**
 * A release in the chunk store: which chunks, in which order, make its image.
 *
 * @param sourceOrder index into {@code chunks} of every chunk of the image, in image order
 * @param chunks      unique chunks, in order of first appearance
 */
public record StoreDictionary(String applicationVersion, HashSum sourceChecksum, long sourceTotalSize,
                              int[] sourceOrder, List<StoreChunk> chunks, ChunkerConfig chunkerConfig, int hashLength) {

    /** One unique chunk: its identity and uncompressed size. */
    public record StoreChunk(HashSum checksum, int sourceSize) {
    }

    /** The release an archive describes. */
    public static StoreDictionary of(ArchiveDictionary a, String applicationVersion) {
        List<StoreChunk> chunks = new ArrayList<>(a.descriptors().size());
        for (ChunkDescriptor d : a.descriptors()) {
            chunks.add(new StoreChunk(d.checksum(), d.sourceSize()));
        }
        return new StoreDictionary(applicationVersion, a.sourceChecksum(), a.sourceTotalSize(), a.rebuildOrder().clone(),
                List.copyOf(chunks), a.chunkerConfig(), a.hashLength());
    }

    /** Offset in the image of every chunk in source order, plus the total at the end. */
    public long[] chunkOffsets() {
        long[] offsets = new long[sourceOrder.length + 1];
        for (int i = 0; i < sourceOrder.length; i++) {
            offsets[i + 1] = offsets[i] + chunks.get(sourceOrder[i]).sourceSize();
        }
        return offsets;
    }
}
