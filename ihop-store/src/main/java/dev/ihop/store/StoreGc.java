package dev.ihop.store;

import dev.ihop.format.HashSum;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Deletes what no release needs: chunk files that no release dictionary references, and
 * temp files left by interrupted writes. Runs under the store's exclusive lock, so no
 * clone, serve or mount is using the store meanwhile (they hold it shared: a clone from
 * before it plans until its release file is written), which also makes every temp file
 * a leftover.
 *
 * <p>Anything gc cannot read stops it: a release whose checksum fails, a file in the
 * root that is not a release. An unreadable release treated as absent would lose its
 * chunks.
 */
public final class StoreGc {
    /** Chunk file names: lower-case hex of a 4..64-byte hash. */
    private static final Pattern CHUNK_NAME = Pattern.compile("[0-9a-f]{8,128}\\.chunk");
    private static final Pattern CHUNK_DIR_NAME = Pattern.compile("[0-9a-f]{4}");

    /**
     * What gc found and deleted (or would delete, on a dry run).
     *
     * @param deleted every file deleted (chunk files, then temp files)
     */
    public record Summary(int releases, int referencedChunks, int keptChunkFiles, long keptBytes,
                          int deletedChunkFiles, long deletedChunkBytes, int deletedTempFiles, long deletedTempBytes,
                          int removedDirectories, boolean dryRun, List<Path> deleted) {
        public long freedBytes() {
            return deletedChunkBytes + deletedTempBytes;
        }
    }

    private StoreGc() {
    }

    /**
     * @param wait wait for users of the store to finish instead of failing with
     *             {@link StoreBusyException}
     */
    public static Summary run(Path storeRoot, boolean dryRun, boolean wait) throws IOException {
        ChunkStore store = new ChunkStore(storeRoot);
        Path root = store.root();
        if (!Files.isDirectory(root)) {
            throw new NoSuchFileException(root.toString(), null, "no such store");
        }
        try (StoreLock lock = StoreLock.exclusive(root, wait)) {
            if (lock == null) {
                throw new StoreBusyException(root, StoreLock.holders(root));
            }
            return collect(store, dryRun);
        }
    }

    private static Summary collect(ChunkStore store, boolean dryRun) throws IOException {
        Path root = store.root();
        Set<HashSum> referenced = new HashSet<>();
        List<Path> temps = new ArrayList<>();
        int releases = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                if (name.startsWith(".")) {
                    if (name.endsWith(ChunkStore.TEMP_SUFFIX)) {
                        temps.add(p);
                    }
                    continue;
                }
                if (!StoreDictionaryCodec.looksLikeRelease(p)) {
                    throw new IOException(p + " is not a release dictionary, so gc cannot tell which chunks it needs;"
                            + " move it out of the store");
                }
                for (StoreDictionary.StoreChunk c : StoreDictionaryCodec.read(p).chunks()) {
                    referenced.add(c.checksum());
                }
                releases++;
            }
        }

        List<Path> deleted = new ArrayList<>();
        int kept = 0;
        long keptBytes = 0;
        int deletedChunks = 0;
        long deletedChunkBytes = 0;
        int removedDirs = 0;
        List<Path> chunkDirs = new ArrayList<>();
        if (Files.isDirectory(store.chunksDirectory(), LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(store.chunksDirectory())) {
                for (Path d : dirs) {
                    if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) && CHUNK_DIR_NAME.matcher(d.getFileName().toString()).matches()) {
                        chunkDirs.add(d);
                    }
                }
            }
        }
        for (Path dir : chunkDirs) {
            String prefix = dir.getFileName().toString();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    if (name.startsWith(".") && name.endsWith(ChunkStore.TEMP_SUFFIX)) {
                        temps.add(f);
                    } else if (CHUNK_NAME.matcher(name).matches() && name.startsWith(prefix) && name.length() % 2 == 0) {
                        long size = Files.size(f);
                        HashSum hash = HashSum.fromHex(name.substring(0, name.length() - ChunkStore.CHUNK_SUFFIX.length()));
                        if (referenced.contains(hash)) {
                            kept++;
                            keptBytes += size;
                        } else {
                            if (!dryRun) {
                                Files.deleteIfExists(f);
                            }
                            deleted.add(f);
                            deletedChunks++;
                            deletedChunkBytes += size;
                        }
                    }
                    // Anything else is not ours: left alone.
                }
            }
        }
        long tempBytes = 0;
        for (Path t : temps) {
            tempBytes += Files.size(t);
            if (!dryRun) {
                Files.deleteIfExists(t);
            }
            deleted.add(t);
        }
        if (!dryRun) {
            for (Path dir : chunkDirs) {
                try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                    if (s.iterator().hasNext()) {
                        continue;
                    }
                }
                Files.deleteIfExists(dir);
                removedDirs++;
            }
        }
        return new Summary(releases, referenced.size(), kept, keptBytes, deletedChunks, deletedChunkBytes, temps.size(), tempBytes,
                removedDirs, dryRun, List.copyOf(deleted));
    }
}
