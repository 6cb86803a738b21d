package dev.ihop.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
        } catch (OverlappingFileLockException e) {
            // Another gc in this JVM holds it: busy, as for another process.
            ch.close();
            return null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        return new StoreLock(root, ch);
    }

    /**
     * Who holds the store's lock, for the "store is in use" message: the processes that
     * {@code /proc/locks} lists on the lock file, with their command lines. Empty when
     * that cannot be told (no procfs, no permission).
     */
    public static List<String> holders(Path storeRoot) {
        List<String> out = new ArrayList<>();
        try {
            Path lockFile = storeRoot.toAbsolutePath().normalize().resolve(LOCK_FILE);
            long inode = ((Number) Files.getAttribute(lockFile, "unix:ino")).longValue();
            long self = ProcessHandle.current().pid();
            // Lines look like "1: POSIX  ADVISORY  READ 12345 08:01:1234567 0 EOF".
            for (String line : Files.readAllLines(Path.of("/proc/locks"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 6 || f[1].equals("->")) {
                    continue;
                }
                String[] id = f[5].split(":");
                if (id.length != 3 || !id[2].equals(Long.toString(inode))) {
                    continue;
                }
                long pid = Long.parseLong(f[4]);
                String who = "pid " + pid;
                if (pid == self) {
                    who += " (this process)";
                } else {
                    try {
                        String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                                StandardCharsets.UTF_8).replace('\0', ' ').trim();
                        if (!cmd.isEmpty()) {
                            who += " (" + (cmd.length() > 100 ? cmd.substring(0, 100) + "..." : cmd) + ")";
                        }
                    } catch (IOException e) {
                        // the process may have ended; the pid alone still helps
                    }
                }
                if (!out.contains(who)) {
                    out.add(who);
                }
            }
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        return out;
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
