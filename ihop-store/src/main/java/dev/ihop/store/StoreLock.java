package dev.ihop.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Cross-process lock on a store's {@code .ihop.lock} file: clone, serve and mount hold
 * it shared while they need chunks; gc takes it exclusive before deleting any. Within
 * one JVM, shared holders of the same store share one OS lock (the JDK refuses
 * overlapping locks from one process).
 */
public final class StoreLock implements AutoCloseable {
    public static final String LOCK_FILE = ".ihop.lock";

    private static final Map<Path, Held> SHARED = new HashMap<>();

    private record Held(FileChannel channel, FileLock lock, int[] count) {
    }

    private final Path root;
    private final FileChannel exclusiveChannel;
    private boolean closed;

    private StoreLock(Path root, FileChannel exclusiveChannel) {
        this.root = root;
        this.exclusiveChannel = exclusiveChannel;
    }

    /** Blocks until no gc runs on the store, then holds it against gc. */
    public static StoreLock shared(Path storeRoot) throws IOException {
        Path root = storeRoot.toAbsolutePath().normalize();
        synchronized (SHARED) {
            Held held = SHARED.get(root);
            if (held == null) {
                FileChannel ch = open(root);
                try {
                    held = new Held(ch, ch.lock(0, Long.MAX_VALUE, true), new int[1]);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                SHARED.put(root, held);
            }
            held.count[0]++;
        }
        return new StoreLock(root, null);
    }

    /**
     * Takes the store for exclusive use (gc), or returns null when another process is
     * using it and {@code wait} is false.
     */
    public static StoreLock exclusive(Path storeRoot, boolean wait) throws IOException {
        Path root = storeRoot.toAbsolutePath().normalize();
        synchronized (SHARED) {
            if (SHARED.containsKey(root)) {
                return null;
            }
        }
        FileChannel ch = open(root);
        try {
            FileLock lock = wait ? ch.lock() : ch.tryLock();
            if (lock == null) {
                ch.close();
                return null;
            }
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new StoreLock(root, ch);
    }

    private static FileChannel open(Path root) throws IOException {
        Files.createDirectories(root);
        return FileChannel.open(root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (exclusiveChannel != null) {
            exclusiveChannel.close();
            return;
        }
        synchronized (SHARED) {
            Held held = SHARED.get(root);
            if (held != null && --held.count[0] == 0) {
                SHARED.remove(root);
                held.channel.close();
            }
        }
    }
}
