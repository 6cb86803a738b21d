package dev.ihop.format;

import dev.ihop.format.codec.ChunkCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.LongConsumer;

/**
 * Compresses a source stream into a bita archive, as bita writes it: header, then each
 * unique chunk once, in order of first appearance, compressed unless that would not make
 * it smaller.
 *
 * <p>Three kinds of threads: the caller's reads and cuts the source and hashes it whole;
 * a pool hashes and compresses chunks; one writer takes results in source order (so the
 * archive is the same whatever the timing), drops duplicates and appends chunk data to a
 * temporary file. Bytes in flight are capped, so memory does not grow with the source.
 * The archive appears under its name only when complete (temp file, fsync, rename).
 */
public final class ArchiveWriter {

    /** What to write. {@code metadata} is stored sorted by key. */
    public record Options(ChunkerConfig chunker, int hashLength, Compression compression,
                          Map<String, byte[]> metadata, String applicationVersion, int threads) {
        public Options {
            metadata = new TreeMap<>(metadata);
            if (hashLength < HashSum.MIN_CHUNK_HASH_LENGTH || hashLength > HashSum.MAX_LENGTH) {
                throw new IllegalArgumentException("hash length must be 4..64: " + hashLength);
            }
        }
    }

    /** What was written. */
    public record Summary(long sourceSize, int chunks, int uniqueChunks, long uniqueSourceBytes,
                          long compressedSize, long archiveSize, HashSum headerChecksum, HashSum sourceChecksum) {
    }

    private record Hashed(byte[] data, HashSum hash, byte[] compressed) {
    }

    private final Options options;
    private final ChunkCodec codec;
    private final long maxBytesInFlight;

    public ArchiveWriter(Options options) {
        this.options = options;
        this.codec = options.compression().codec();
        this.maxBytesInFlight = Math.max(64L << 20, 2L * options.chunker().maxSize());
    }

    /**
     * Writes the archive of {@code in} to {@code output}.
     *
     * @param progress called with the number of source bytes read so far
     */
    public Summary write(InputStream in, Path output, boolean overwrite, LongConsumer progress) throws IOException {
        Path dir = output.toAbsolutePath().getParent();
        if (!overwrite && Files.exists(output)) {
            throw new FileAlreadyExistsException(output.toString());
        }
        // Temp names carry our pid: a file with that name can only be left by a killed
        // earlier process that had the same pid, so it is overwritten, not refused.
        String base = "." + output.getFileName() + "." + ProcessHandle.current().pid();
        Path dataTmp = dir.resolve(base + ".chunks.tmp");
        Path archiveTmp = dir.resolve(base + ".tmp");
        try {
            Body body;
            try (FileChannel data = FileChannel.open(dataTmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE,
                    StandardOpenOption.READ, StandardOpenOption.DELETE_ON_CLOSE)) {
                body = writeChunks(in, data, progress);
                ArchiveDictionary dictionary = new ArchiveDictionary(options.applicationVersion(), body.sourceChecksum,
                        body.sourceSize, options.chunker(), options.hashLength(), options.compression(), body.order,
                        body.descriptors, options.metadata());
                byte[] header = ArchiveHeaderCodec.encode(dictionary);
                long size = data.size();
                try (FileChannel out = FileChannel.open(archiveTmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                    java.nio.ByteBuffer h = java.nio.ByteBuffer.wrap(header);
                    while (h.hasRemaining()) {
                        out.write(h);
                    }
                    for (long done = 0; done < size; ) {
                        done += data.transferTo(done, size - done, out);
                    }
                    out.force(true);
                }
                if (!overwrite && Files.exists(output)) {
                    throw new FileAlreadyExistsException(output.toString());
                }
                Files.move(archiveTmp, output, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                fsyncDirectory(dir);
                HashSum headerChecksum = HashSum.of(java.util.Arrays.copyOfRange(header, header.length - Blake2b.DIGEST_LENGTH, header.length));
                return new Summary(body.sourceSize, body.order.length, body.descriptors.size(), body.uniqueSourceBytes,
                        size, header.length + size, headerChecksum, body.sourceChecksum);
            }
        } finally {
            Files.deleteIfExists(archiveTmp);
            Files.deleteIfExists(dataTmp);
        }
    }

    /** Makes a rename durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private record Body(long sourceSize, HashSum sourceChecksum, int[] order, List<ChunkDescriptor> descriptors,
                        long uniqueSourceBytes) {
    }

    private Body writeChunks(InputStream in, FileChannel data, LongConsumer progress) throws IOException {
        int threads = Math.max(1, options.threads());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "ihop-compress");
            t.setDaemon(true);
            return t;
        });
        Semaphore budget = new Semaphore((int) Math.min(Integer.MAX_VALUE, maxBytesInFlight));
        BlockingQueue<Future<Hashed>> queue = new ArrayBlockingQueue<>(4 * threads + 64);
        Set<HashSum> claimed = ConcurrentHashMap.newKeySet();
        Future<?> endMarker = java.util.concurrent.CompletableFuture.completedFuture(null);
        OrderedWriter writer = new OrderedWriter(queue, budget, data, endMarker);
        Thread writerThread = Thread.ofPlatform().name("ihop-archive-writer").daemon().start(writer);
        Blake2b sourceHash = new Blake2b();
        long total = 0;
        try {
            ChunkReader reader = new ChunkReader(in, options.chunker().newChunker());
            for (ChunkReader.Chunk chunk; (chunk = reader.next()) != null; ) {
                byte[] bytes = chunk.data();
                sourceHash.update(bytes);
                total += bytes.length;
                budget.acquire(bytes.length);
                if (!enqueue(queue, pool.submit(() -> hashAndCompress(bytes, claimed)), writer)) {
                    break;
                }
                progress.accept(total);
            }
            @SuppressWarnings("unchecked")
            Future<Hashed> end = (Future<Hashed>) endMarker;
            enqueue(queue, end, writer);
            writerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("compression interrupted");
        } finally {
            pool.shutdownNow();
            writerThread.interrupt();
        }
        if (writer.failure != null) {
            if (writer.failure instanceof IOException io) {
                throw io;
            }
            throw new IOException("compressing chunks failed: " + writer.failure, writer.failure);
        }
        int[] order = writer.order.stream().mapToInt(Integer::intValue).toArray();
        return new Body(total, sourceHash.sum(), order, writer.descriptors, writer.uniqueSourceBytes);
    }

    /** Hands a result to the writer; false if the writer has failed (it no longer takes any). */
    private static boolean enqueue(BlockingQueue<Future<Hashed>> queue, Future<Hashed> item, OrderedWriter writer)
            throws InterruptedException {
        while (writer.failure == null) {
            if (queue.offer(item, 100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return true;
            }
        }
        return false;
    }

    private Hashed hashAndCompress(byte[] bytes, Set<HashSum> claimed) throws IOException {
        HashSum hash = Blake2b.chunkHash(bytes, 0, bytes.length, options.hashLength());
        byte[] compressed = claimed.add(hash) ? compressOrRaw(bytes) : null;
        return new Hashed(bytes, hash, compressed);
    }

    /** The stored form: compressed, or the raw bytes when compression does not shrink them. */
    private byte[] compressOrRaw(byte[] bytes) throws IOException {
        byte[] c = codec.compress(bytes, 0, bytes.length);
        return c.length < bytes.length ? c : bytes;
    }

    /** Takes chunk results in source order; keeps the first of each hash. */
    private final class OrderedWriter implements Runnable {
        private final BlockingQueue<Future<Hashed>> queue;
        private final Semaphore budget;
        private final FileChannel data;
        private final Future<?> end;
        private final Map<HashSum, Integer> index = new HashMap<>();
        final List<Integer> order = new ArrayList<>();
        final List<ChunkDescriptor> descriptors = new ArrayList<>();
        long uniqueSourceBytes;
        volatile Throwable failure;

        OrderedWriter(BlockingQueue<Future<Hashed>> queue, Semaphore budget, FileChannel data, Future<?> end) {
            this.queue = queue;
            this.budget = budget;
            this.data = data;
            this.end = end;
        }

        @Override
        public void run() {
            try {
                long offset = 0;
                for (Future<Hashed> f; (f = queue.take()) != end; ) {
                    Hashed h;
                    try {
                        h = f.get();
                    } catch (ExecutionException e) {
                        throw e.getCause();
                    }
                    Integer known = index.get(h.hash);
                    if (known == null) {
                        byte[] stored = h.compressed != null ? h.compressed : compressOrRaw(h.data);
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(stored);
                        while (b.hasRemaining()) {
                            data.write(b);
                        }
                        known = descriptors.size();
                        index.put(h.hash, known);
                        descriptors.add(new ChunkDescriptor(h.hash, stored.length, offset, h.data.length));
                        offset += stored.length;
                        uniqueSourceBytes += h.data.length;
                    }
                    order.add(known);
                    budget.release(h.data.length);
                }
                data.force(false);
            } catch (Throwable t) {
                failure = t instanceof UncheckedIOException u ? u.getCause() : t;
                budget.release(Integer.MAX_VALUE / 2); // unblock the reader so it sees the failure
                queue.clear();
            }
        }
    }
}
