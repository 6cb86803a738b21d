package dev.ihop.store;

import dev.ihop.format.Archive;
import dev.ihop.format.ArchiveHeaderCodec;
import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkDescriptor;
import dev.ihop.format.ChunkReader;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The chunks an image is made of, from an archive's dictionary, a release's dictionary
 * or by cutting an image file: what {@link ChunkDiff} compares.
 *
 * @param unique      distinct chunks in order of first appearance
 * @param headerBytes an archive's header size (downloaded by every clone); 0 otherwise
 */
public record ImageChunks(String name, Kind kind, ChunkerConfig chunker, int hashLength, long imageSize, int chunks,
                          Map<HashSum, Chunk> unique, long headerBytes) {

    public enum Kind { IMAGE, ARCHIVE, RELEASE }

    /**
     * One distinct chunk.
     *
     * @param archiveSize bytes stored in the archive (compressed), or -1 when not from an archive
     */
    public record Chunk(int sourceSize, int archiveSize) {
    }

    /** hash length bita's compress uses by default */
    public static final int DEFAULT_HASH_LENGTH = 64;

    public static ImageChunks of(Archive archive) {
        var d = archive.dictionary();
        Map<HashSum, Chunk> unique = new LinkedHashMap<>();
        for (ChunkDescriptor c : d.descriptors()) {
            unique.put(c.checksum(), new Chunk(c.sourceSize(), c.archiveSize()));
        }
        return new ImageChunks(archive.source().describe(), Kind.ARCHIVE, d.chunkerConfig(), d.hashLength(), d.sourceTotalSize(),
                d.rebuildOrder().length, Collections.unmodifiableMap(unique), archive.header().size());
    }

    public static ImageChunks of(Path release, StoreDictionary d) {
        Map<HashSum, Chunk> unique = new LinkedHashMap<>();
        for (StoreDictionary.StoreChunk c : d.chunks()) {
            unique.put(c.checksum(), new Chunk(c.sourceSize(), -1));
        }
        return new ImageChunks(release.toString(), Kind.RELEASE, d.chunkerConfig(), d.hashLength(), d.sourceTotalSize(),
                d.sourceOrder().length, Collections.unmodifiableMap(unique), 0);
    }

    /** Cuts an image with {@code chunker}, one chunk in memory at a time. */
    public static ImageChunks ofImage(String name, InputStream image, ChunkerConfig chunker, int hashLength) throws IOException {
        Map<HashSum, Chunk> unique = new LinkedHashMap<>();
        ChunkReader reader = new ChunkReader(image, chunker.newChunker());
        long size = 0;
        int chunks = 0;
        for (ChunkReader.Chunk c; (c = reader.next()) != null; ) {
            unique.putIfAbsent(Blake2b.chunkHash(c.data(), 0, c.length(), hashLength), new Chunk(c.length(), -1));
            size += c.length();
            chunks++;
        }
        return new ImageChunks(name, Kind.IMAGE, chunker, hashLength, size, chunks, Collections.unmodifiableMap(unique), 0);
    }

    /** What a local file is, from its first bytes: a release, an archive, else an image. */
    public static Kind kindOf(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return Kind.IMAGE; // block devices and pipes hold images
        }
        if (StoreDictionaryCodec.looksLikeRelease(file)) {
            return Kind.RELEASE;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(ArchiveHeaderCodec.MAGIC.length);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // fill
            }
            byte[] magic = b.array();
            if (!b.hasRemaining() && (Arrays.equals(magic, ArchiveHeaderCodec.MAGIC) || Arrays.equals(magic, ArchiveHeaderCodec.LEGACY_MAGIC))) {
                return Kind.ARCHIVE;
            }
        }
        return Kind.IMAGE;
    }

    public long uniqueBytes() {
        return unique.values().stream().mapToLong(Chunk::sourceSize).sum();
    }
}
