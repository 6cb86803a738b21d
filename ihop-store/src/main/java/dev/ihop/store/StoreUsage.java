package dev.ihop.store;

import dev.ihop.format.HashSum;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What each release of a store uses and what the store holds on disk ({@code ihop ls}).
 * Reads only; takes no lock (a gc running meanwhile can only change the unreferenced
 * figures).
 */
public final class StoreUsage {

    /**
     * One release.
     *
     * @param chunks        chunks of the image, repeats counted
     * @param uniqueBytes   bytes of its distinct chunks: what it needs on disk
     * @param sharedBytes   of those, bytes in chunks another release also uses
     * @param exclusiveBytes of those, bytes only this release uses: what removing it frees
     * @param missingChunks distinct chunks whose file is absent or has the wrong size
     */
    public record Release(Path file, String applicationVersion, HashSum sourceChecksum, long imageSize, int chunks,
                          int uniqueChunks, long uniqueBytes, long sharedBytes, long exclusiveBytes, int missingChunks) {
    }

    /**
     * The store.
     *
     * @param chunkFiles         chunk files on disk
     * @param chunkBytes         their total size
     * @param unreferencedFiles  chunk files no release uses (gc would delete them)
     * @param unreferencedBytes  their size
     * @param tempFiles          leftover temp files
     */
    public record Summary(Path root, List<Release> releases, long chunkFiles, long chunkBytes, long unreferencedFiles,
                          long unreferencedBytes, long tempFiles, long tempBytes) {
        /** Sum of the release image sizes. */
        public long imageBytes() {
            return releases.stream().mapToLong(Release::imageSize).sum();
        }

        /** Image bytes the store represents per chunk byte it holds (1.0 = no sharing). */
        public double dedupRatio() {
            return chunkBytes == 0 ? 1.0 : (double) imageBytes() / chunkBytes;
        }
    }

    private StoreUsage() {
    }

    public static Summary of(Path storeRoot) throws IOException {
        ChunkStore store = new ChunkStore(storeRoot);
        List<Path> files = store.releases();
        List<StoreDictionary> dictionaries = new ArrayList<>(files.size());
        Map<HashSum, Integer> users = new HashMap<>();
        for (Path f : files) {
            StoreDictionary d = StoreDictionaryCodec.read(f);
            dictionaries.add(d);
            for (StoreDictionary.StoreChunk c : d.chunks()) {
                users.merge(c.checksum(), 1, Integer::sum);
            }
        }
        List<Release> releases = new ArrayList<>(files.size());
        for (int i = 0; i < files.size(); i++) {
            StoreDictionary d = dictionaries.get(i);
            long unique = 0;
            long shared = 0;
            int missing = 0;
            for (StoreDictionary.StoreChunk c : d.chunks()) {
                unique += c.sourceSize();
                if (users.get(c.checksum()) > 1) {
                    shared += c.sourceSize();
                }
                if (!store.containsChunk(c.checksum(), c.sourceSize())) {
                    missing++;
                }
            }
            releases.add(new Release(files.get(i), d.applicationVersion(), d.sourceChecksum(), d.sourceTotalSize(),
                    d.sourceOrder().length, d.chunks().size(), unique, shared, unique - shared, missing));
        }

        long chunkFiles = 0;
        long chunkBytes = 0;
        long unrefFiles = 0;
        long unrefBytes = 0;
        long tempFiles = 0;
        long tempBytes = 0;
        if (Files.isDirectory(store.chunksDirectory(), LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(store.chunksDirectory())) {
                for (Path dir : dirs) {
                    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    try (DirectoryStream<Path> chunkFilesInDir = Files.newDirectoryStream(dir)) {
                        for (Path f : chunkFilesInDir) {
                            String name = f.getFileName().toString();
                            long size = Files.size(f);
                            if (name.startsWith(".") && name.endsWith(ChunkStore.TEMP_SUFFIX)) {
                                tempFiles++;
                                tempBytes += size;
                            } else if (name.endsWith(ChunkStore.CHUNK_SUFFIX)) {
                                chunkFiles++;
                                chunkBytes += size;
                                if (!users.containsKey(hashOf(name))) {
                                    unrefFiles++;
                                    unrefBytes += size;
                                }
                            }
                        }
                    }
                }
            }
        }
        try (DirectoryStream<Path> top = Files.newDirectoryStream(store.root())) {
            for (Path f : top) {
                String name = f.getFileName().toString();
                if (name.startsWith(".") && name.endsWith(ChunkStore.TEMP_SUFFIX) && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    tempFiles++;
                    tempBytes += Files.size(f);
                }
            }
        }
        return new Summary(store.root(), List.copyOf(releases), chunkFiles, chunkBytes, unrefFiles, unrefBytes, tempFiles, tempBytes);
    }

    /** The hash a chunk file is named after, or null if the name is not a hash. */
    private static HashSum hashOf(String fileName) {
        String hex = fileName.substring(0, fileName.length() - ChunkStore.CHUNK_SUFFIX.length());
        try {
            return HashSum.fromHex(hex);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
