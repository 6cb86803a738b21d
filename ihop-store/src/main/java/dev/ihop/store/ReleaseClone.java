package dev.ihop.store;

import dev.ihop.format.Archive;
import dev.ihop.format.ArchiveDictionary;
import dev.ihop.format.ByteRange;
import dev.ihop.format.ChunkDescriptor;
import dev.ihop.format.ChunkReader;
import dev.ihop.format.HashSum;
import dev.ihop.format.MalformedInputException;
import dev.ihop.format.VerifiedChunk;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Turns an archive into a release of a chunk store, writing only the chunks the store
 * lacks: plan (which chunks are present), seeds (chunks found in local files), fetch
 * (range requests for the rest), then the release dictionary, last and atomically.
 * Interrupted at any point, a rerun picks up where it stopped: every chunk written is
 * complete and verified.
 */
public final class ReleaseClone {

    /**
     * @param naive        trust present chunk files without re-hashing them
     * @param verifyHeader refuse the archive unless its header checksum equals this (null: any)
     * @param replace      replace an existing release file
     */
    public record Options(boolean naive, List<Path> seeds, HashSum verifyHeader, boolean replace,
                          String applicationVersion, int threads) {
    }

    /** What the clone did. {@code bytesFetched} counts archive bytes of fetched chunks. */
    public record Summary(int chunks, int uniqueChunks, int present, int fromSeeds, int fetched,
                          long bytesFetched, long archiveChunkBytes, long bytesWritten, long sourceSize) {
    }

    /** Progress callbacks; called from worker threads. */
    public interface Listener {
        void phase(String name);

        void progress(long done, long total);

        /** A chunk was written to the store (from a seed or the archive). */
        default void chunkStored() {
        }
    }

    public static final Listener SILENT = new Listener() {
        @Override
        public void phase(String name) {
        }

        @Override
        public void progress(long done, long total) {
        }
    };

    /**
     * Bytes of fetched chunks waiting to be written, at most: a quarter of the heap, up to
     * 64 MiB. Chunk writes wait on fsync, so downloads outrun them and fill whatever this
     * allows; a fixed 64 MiB was the whole heap of a small device's JVM (with -Xmx24m a
     * clone of incompressible data ran out of memory).
     */
    private static final int MAX_BYTES_IN_FLIGHT = (int) Math.min(64L << 20, Math.max(4L << 20, Runtime.getRuntime().maxMemory() / 4));

    private ReleaseClone() {
    }

    public static Summary run(Archive archive, Path releaseFile, Options options, Listener listener) throws IOException {
        if (options.verifyHeader() != null && !options.verifyHeader().equals(archive.header().checksum())) {
            throw new MalformedInputException(archive.source().describe() + ": header checksum " + archive.header().checksum().hex()
                    + " does not match the pinned " + options.verifyHeader().hex());
        }
        if (!options.replace() && Files.exists(releaseFile)) {
            throw new FileAlreadyExistsException(releaseFile.toString());
        }
        ChunkStore store = ChunkStore.ofRelease(releaseFile);
        Files.createDirectories(store.chunksDirectory());
        ArchiveDictionary d = archive.dictionary();
        int threads = Math.max(1, options.threads());
        // More threads than cores: each chunk write waits on its fsync, and concurrent fsyncs share journal commits.
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(threads, 8), r -> {
            Thread t = new Thread(r, "ihop-clone");
            t.setDaemon(true);
            return t;
        });
        try (StoreLock lock = StoreLock.shared(store.root())) {
            listener.phase("checking store");
            List<ChunkDescriptor> missing = missingChunks(store, d.descriptors(), options.naive(), pool, listener);
            int present = d.descriptors().size() - missing.size();
            int fromSeeds = 0;
            long bytesWritten = 0;
            for (Path seed : options.seeds()) {
                if (missing.isEmpty()) {
                    break;
                }
                listener.phase("scanning seed " + seed);
                SeedResult r = scanSeed(store, seed, d, missing, listener);
                fromSeeds += r.chunks;
                bytesWritten += r.bytes;
            }
            listener.phase("fetching");
            Fetch fetch = fetch(archive, store, missing, pool, listener);
            bytesWritten += fetch.bytesWritten;
            listener.phase("writing release");
            store.sync();
            store.writeRelease(releaseFile, StoreDictionary.of(d, options.applicationVersion()), options.replace());
            return new Summary(d.rebuildOrder().length, d.descriptors().size(), present, fromSeeds, missing.size(),
                    fetch.archiveBytes, d.compressedSize(), bytesWritten, d.sourceTotalSize());
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<ChunkDescriptor> missingChunks(ChunkStore store, List<ChunkDescriptor> all, boolean naive,
                                                       ExecutorService pool, Listener listener) throws IOException {
        List<Future<Boolean>> checks = new ArrayList<>(all.size());
        for (ChunkDescriptor c : all) {
            checks.add(pool.submit(() -> naive
                    ? store.containsChunk(c.checksum(), c.sourceSize())
                    : store.containsValidChunk(c.checksum(), c.sourceSize())));
        }
        List<ChunkDescriptor> missing = new ArrayList<>();
        long total = all.stream().mapToLong(ChunkDescriptor::sourceSize).sum();
        long checked = 0;
        for (int i = 0; i < all.size(); i++) {
            if (!await(checks.get(i))) {
                missing.add(all.get(i));
            }
            checked += all.get(i).sourceSize();
            listener.progress(checked, total);
        }
        return missing;
    }

    private record SeedResult(int chunks, long bytes) {
    }

    /** Cuts the seed with the archive's chunker; chunks whose hash is missing go to the store. */
    private static SeedResult scanSeed(ChunkStore store, Path seed, ArchiveDictionary d, List<ChunkDescriptor> missing,
                                       Listener listener) throws IOException {
        Map<HashSum, ChunkDescriptor> wanted = new HashMap<>();
        for (ChunkDescriptor c : missing) {
            wanted.put(c.checksum(), c);
        }
        java.util.Set<ChunkDescriptor> taken = new java.util.HashSet<>();
        int found = 0;
        long bytes = 0;
        try (InputStream in = Files.newInputStream(seed)) {
            ChunkReader reader = new ChunkReader(in, d.chunkerConfig().newChunker());
            for (ChunkReader.Chunk chunk; (chunk = reader.next()) != null && !wanted.isEmpty(); ) {
                VerifiedChunk candidate = VerifiedChunk.ofContent(chunk.data(), d.hashLength());
                ChunkDescriptor c = wanted.remove(candidate.hash());
                if (c != null && c.sourceSize() == chunk.length()) {
                    store.putChunk(candidate);
                    listener.chunkStored();
                    taken.add(c);
                    found++;
                    bytes += chunk.length();
                }
                listener.progress(chunk.offset() + chunk.length(), -1);
            }
        }
        missing.removeIf(taken::contains);
        return new SeedResult(found, bytes);
    }

    /** What a fetch did: archive bytes of the chunks read, chunk bytes written to the store. */
    public record Fetch(long archiveBytes, long bytesWritten) {
    }

    /**
     * Fetches exactly {@code chunks} (descriptors of {@code archive}) into the store with
     * range requests, verifying each, and makes them durable. Used by repair; the caller
     * holds the store's shared lock.
     */
    public static Fetch fetchChunks(Archive archive, ChunkStore store, List<ChunkDescriptor> chunks, int threads,
                                    Listener listener) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(Math.max(1, threads), 8), r -> {
            Thread t = new Thread(r, "ihop-fetch");
            t.setDaemon(true);
            return t;
        });
        try {
            Fetch f = fetch(archive, store, chunks, pool, listener);
            store.sync();
            return f;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Fetch fetch(Archive archive, ChunkStore store, List<ChunkDescriptor> missing, ExecutorService pool,
                               Listener listener) throws IOException {
        List<ChunkDescriptor> byOffset = new ArrayList<>(missing);
        byOffset.sort(Comparator.comparingLong(ChunkDescriptor::archiveOffset));
        List<ByteRange> ranges = new ArrayList<>(byOffset.size());
        long total = 0;
        for (ChunkDescriptor c : byOffset) {
            ranges.add(archive.header().rangeOf(c));
            total += c.archiveSize();
        }
        long totalBytes = total;
        Semaphore budget = new Semaphore(MAX_BYTES_IN_FLIGHT);
        List<Future<?>> pending = new ArrayList<>();
        AtomicLong fetched = new AtomicLong();
        AtomicLong written = new AtomicLong();
        try {
            archive.source().readRanges(ranges, (index, data) -> {
                ChunkDescriptor c = byOffset.get(index);
                byte[] stored = data; // ours to keep (ArchiveSource.RangeConsumer)
                int cost = Math.min(MAX_BYTES_IN_FLIGHT, stored.length + c.sourceSize());
                try {
                    budget.acquire(cost);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("clone interrupted");
                }
                pending.add(pool.submit(() -> {
                    try {
                        store.putChunk(archive.decode(c, stored));
                        listener.chunkStored();
                        written.addAndGet(c.sourceSize());
                    } finally {
                        budget.release(cost);
                    }
                    listener.progress(fetched.addAndGet(stored.length), totalBytes);
                    return null;
                }));
                // Surface a failed write early rather than after the whole download.
                for (var it = pending.iterator(); it.hasNext(); ) {
                    Future<?> f = it.next();
                    if (f.isDone()) {
                        await(f);
                        it.remove();
                    }
                }
            });
            for (Future<?> f : pending) {
                await(f);
            }
        } catch (IOException | RuntimeException e) {
            for (Future<?> f : pending) {
                f.cancel(true);
            }
            throw e;
        }
        return new Fetch(totalBytes, written.get());
    }

    private static <T> T await(Future<T> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("clone interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }
}
