package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ihop.format.Blake2b;
import dev.ihop.format.HashSum;
import dev.ihop.store.ChunkStore;
import dev.ihop.store.StoreDictionary;
import dev.ihop.store.StoreDictionaryCodec;
import dev.ihop.store.StoreLock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** What must hold for a chunk store whatever happened to the process writing it. */
final class StoreChecks {
    private static final Pattern CHUNK_NAME = Pattern.compile("([0-9a-f]{8,128})\\.chunk");
    /** Temporary files as ChunkStore names them: hidden, ending in .tmp. */
    private static final Pattern TEMP_NAME = Pattern.compile("\\..*\\.tmp");

    private StoreChecks() {
    }

    /** What a walk of the store found. */
    record Contents(int chunks, int tempFiles) {}

    /**
     * Every {@code *.chunk} file hashes to its name and sits in the directory its name
     * says; anything else in {@code chunks/} is a hidden temp file.
     */
    static Contents checkChunks(Path store, int hashLength) throws IOException {
        Path chunks = store.resolve(ChunkStore.CHUNKS_DIR);
        int count = 0;
        int temps = 0;
        if (!Files.isDirectory(chunks)) {
            return new Contents(0, 0);
        }
        try (Stream<Path> files = Files.walk(chunks)) {
            for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = p.getFileName().toString();
                var m = CHUNK_NAME.matcher(name);
                if (m.matches()) {
                    String hex = m.group(1);
                    assertEquals(hashLength * 2, hex.length(), "chunk name of the wrong length: " + p);
                    assertEquals(hex.substring(0, 4), p.getParent().getFileName().toString(), "chunk in the wrong directory: " + p);
                    byte[] data = Files.readAllBytes(p);
                    HashSum actual = Blake2b.chunkHash(data, 0, data.length, hashLength);
                    assertEquals(hex, actual.hex(), "chunk file content does not match its name: " + p + " (" + data.length + " bytes)");
                    count++;
                } else if (TEMP_NAME.matcher(name).matches()) {
                    temps++;
                } else {
                    fail("unexpected file in the chunk store: " + p);
                }
            }
        }
        return new Contents(count, temps);
    }

    /**
     * The files in the store root: releases (listed by ChunkStore), the lock, hidden temp
     * files. A temp file is never listed as a release.
     */
    static List<Path> releases(Path store) throws IOException {
        if (!Files.isDirectory(store)) {
            return List.of();
        }
        List<Path> releases = new ChunkStore(store).releases();
        try (Stream<Path> files = Files.list(store)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                boolean ok = name.equals(ChunkStore.CHUNKS_DIR) || name.equals(StoreLock.LOCK_FILE)
                        || TEMP_NAME.matcher(name).matches() || releases.contains(p);
                assertTrue(ok, "unexpected file in the store root: " + p);
                if (TEMP_NAME.matcher(name).matches()) {
                    assertTrue(!releases.contains(p), "a temp file is listed as a release: " + p);
                }
            }
        }
        return releases;
    }

    /** The image of a release, read through the store's own reader and checked against its checksum. */
    static byte[] image(Path release) throws IOException {
        StoreDictionary d = StoreDictionaryCodec.read(release);
        ChunkStore store = ChunkStore.ofRelease(release);
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16, d.sourceTotalSize()));
        Blake2b hash = new Blake2b();
        for (int index : d.sourceOrder()) {
            StoreDictionary.StoreChunk c = d.chunks().get(index);
            byte[] data = store.readChunk(c.checksum(), c.sourceSize());
            out.write(data);
            hash.update(data);
        }
        assertEquals(d.sourceChecksum(), hash.sum(), release + ": the image does not match the release's source checksum");
        return out.toByteArray();
    }

    /** Streams a release's image through BLAKE2b-512 without holding it (for large images). */
    static String imageHash(Path release) throws IOException {
        StoreDictionary d = StoreDictionaryCodec.read(release);
        ChunkStore store = ChunkStore.ofRelease(release);
        Blake2b hash = new Blake2b();
        long size = 0;
        for (int index : d.sourceOrder()) {
            StoreDictionary.StoreChunk c = d.chunks().get(index);
            hash.update(store.readChunk(c.checksum(), c.sourceSize()));
            size += c.sourceSize();
        }
        assertEquals(d.sourceTotalSize(), size);
        return HexFormat.of().formatHex(hash.digest());
    }
}
