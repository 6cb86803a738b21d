package dev.ihop.store;

import dev.ihop.format.HashSum;
import java.util.HashSet;
import java.util.Set;

/**
 * How far image B is from image A in chunks: what B shares with A, what is new, and what
 * going from A to B would download (new chunks' compressed size plus the header when B is
 * an archive; their plain size otherwise). Hashes of different lengths are compared on
 * their common prefix.
 *
 * @param sameChunker  both sides were cut the same way; if not, few chunks can match
 * @param sharedChunks distinct chunks of B that A has
 * @param sharedBytes  their size
 * @param newChunks    distinct chunks of B that A lacks
 * @param newBytes     their size
 * @param dropped      distinct chunks of A that B does not use
 * @param downloadBytes estimated transfer from A to B
 */
public record ChunkDiff(ImageChunks a, ImageChunks b, boolean sameChunker, int sharedChunks, long sharedBytes, int newChunks,
                        long newBytes, int dropped, long droppedBytes, long downloadBytes) {

    public static ChunkDiff of(ImageChunks a, ImageChunks b) {
        int length = Math.min(a.hashLength(), b.hashLength());
        Set<HashSum> inA = new HashSet<>();
        for (HashSum h : a.unique().keySet()) {
            inA.add(h.truncate(length));
        }
        Set<HashSum> inB = new HashSet<>();
        int shared = 0;
        long sharedBytes = 0;
        int fresh = 0;
        long freshBytes = 0;
        long download = b.headerBytes();
        for (var e : b.unique().entrySet()) {
            HashSum h = e.getKey().truncate(length);
            inB.add(h);
            ImageChunks.Chunk c = e.getValue();
            if (inA.contains(h)) {
                shared++;
                sharedBytes += c.sourceSize();
            } else {
                fresh++;
                freshBytes += c.sourceSize();
                download += c.archiveSize() >= 0 ? c.archiveSize() : c.sourceSize();
            }
        }
        int dropped = 0;
        long droppedBytes = 0;
        for (var e : a.unique().entrySet()) {
            if (!inB.contains(e.getKey().truncate(length))) {
                dropped++;
                droppedBytes += e.getValue().sourceSize();
            }
        }
        return new ChunkDiff(a, b, a.chunker().equals(b.chunker()), shared, sharedBytes, fresh, freshBytes, dropped, droppedBytes,
                download);
    }
}
