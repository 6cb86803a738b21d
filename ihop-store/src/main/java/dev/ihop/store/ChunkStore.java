package dev.ihop.store;

import dev.ihop.format.ArchiveWriter;
import dev.ihop.format.Blake2b;
import dev.ihop.format.HashSum;
import dev.ihop.format.VerifiedChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A directory of chunk files shared by releases (FORMATS.md section 5):
 * {@code <root>/chunks/<hex of hash bytes 0..1>/<hex of hash>.chunk}, each holding the
 * uncompressed chunk. Release dictionaries sit directly in the root.
 *
 * <p>A chunk file's content always matches its name: chunks are written to a temporary
 * file, fsynced and renamed; only {@link VerifiedChunk}s are accepted. Paths are built
 * only from hash bytes, never from input text.
 */
public final class ChunkStore {
    public static final String CHUNKS_DIR = "chunks";
    public static final String CHUNK_SUFFIX = ".chunk";
    public static final String TEMP_SUFFIX = ".tmp";
    private static final AtomicLong TEMP_COUNTER = new AtomicLong();

    private final Path root;
    private final Path chunks;
    /** Chunk directories with renames not yet made durable. */
    private final Set<Path> dirtyDirectories = ConcurrentHashMap.newKeySet();

    public ChunkStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.chunks = this.root.resolve(CHUNKS_DIR);
    }

    /** The store that holds the release dictionary file {@code release}. */
    public static ChunkStore ofRelease(Path release) {
        Path parent = release.toAbsolutePath().normalize().getParent();
        return new ChunkStore(parent);
    }

    public Path root() {
        return root;
    }

    public Path chunksDirectory() {
        return chunks;
    }

    /** Where the chunk {@code hash} lives. */
    public Path chunkPath(HashSum hash) {
        // The name is the hex of the hash bytes: no input text reaches the path. Shorter
        // hashes than any archive may use would not even fill the directory name.
        if (hash.length() < HashSum.MIN_CHUNK_HASH_LENGTH) {
            throw new IllegalArgumentException("chunk hash of " + hash.length() + " bytes; at least "
                    + HashSum.MIN_CHUNK_HASH_LENGTH + " expected");
        }
        String hex = hash.hex();
        return chunks.resolve(hex.substring(0, 4)).resolve(hex + CHUNK_SUFFIX);
    }

    /** True if the chunk file exists with the expected size (content not checked). */
    public boolean containsChunk(HashSum hash, int size) {
        try {
            return Files.size(chunkPath(hash)) == size;
        } catch (IOException e) {
            return false;
        }
    }

    /** True if the chunk file exists and its content hashes to its name. */
    public boolean containsValidChunk(HashSum hash, int size) {
        try {
            byte[] data = readChunk(hash, size);
            return Blake2b.chunkHash(data, 0, data.length, hash.length()).equals(hash);
        } catch (IOException e) {
            return false;
        }
    }

    /** Reads a chunk file, which must have {@code size} bytes. */
    public byte[] readChunk(HashSum hash, int size) throws IOException {
        Path p = chunkPath(hash);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            if (ch.size() != size) {
                throw new IOException(p + ": chunk file has " + ch.size() + " bytes, expected " + size);
            }
            ByteBuffer b = ByteBuffer.allocate(size);
            while (b.hasRemaining()) {
                if (ch.read(b, b.position()) < 0) {
                    throw new IOException(p + ": chunk file is shorter than " + size + " bytes");
                }
            }
            return b.array();
        }
    }

    /**
     * Writes a verified chunk under its name: temp file, fsync, rename. The rename is
     * made durable by {@link #sync()}.
     */
    public void putChunk(VerifiedChunk chunk) throws IOException {
        Path target = chunkPath(chunk.hash());
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + "."
                + TEMP_COUNTER.incrementAndGet() + TEMP_SUFFIX);
        try {
            // The name holds our pid and a counter: an existing file can only be a leftover of a
            // killed process that had the same pid, so overwrite it rather than fail.
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(chunk.data());
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(false);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            dirtyDirectories.add(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Makes every rename done by {@link #putChunk} durable. */
    public void sync() throws IOException {
        for (Path dir : List.copyOf(dirtyDirectories)) {
            ArchiveWriter.fsyncDirectory(dir);
            dirtyDirectories.remove(dir);
        }
        if (Files.isDirectory(chunks)) {
            ArchiveWriter.fsyncDirectory(chunks);
        }
    }

    /**
     * Writes a release dictionary atomically. The caller must have made every chunk
     * durable first: a release file that exists is always complete.
     */
    public void writeRelease(Path releaseFile, StoreDictionary dictionary, boolean replace) throws IOException {
        Path target = root.resolve(releaseFile.getFileName());
        if (!replace && Files.exists(target)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        Path temp = root.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + TEMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(StoreDictionaryCodec.encode(dictionary));
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            ArchiveWriter.fsyncDirectory(root);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** Release dictionary files in the root (recognised by their magic), sorted by name. */
    public List<Path> releases() throws IOException {
        if (!Files.isDirectory(root)) {
            throw new NoSuchFileException(root.toString(), null, "no such store");
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(root)) {
            for (Path p : (Iterable<Path>) files.sorted()::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".") && StoreDictionaryCodec.looksLikeRelease(p)) {
                    out.add(p);
                }
            }
        }
        return out;
    }
}
