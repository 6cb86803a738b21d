package dev.ihop.nbd.device;

import dev.ihop.format.MalformedInputException;
import dev.ihop.format.HashSum;
import dev.ihop.store.ChunkStore;
import dev.ihop.store.StoreDictionary;
import dev.ihop.store.StoreDictionaryCodec;
import dev.ihop.store.StoreLock;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A release of a chunk store served as a block device: its image is the concatenation of
 * chunk files in the release's source order, so a read finds its first chunk by binary
 * search over the cumulative offsets and continues chunk by chunk. Chunk files are read
 * positionally through a bounded cache of open channels, straight into the caller's
 * buffer: no chunk is ever loaded whole, and a read that hits the cache allocates nothing.
 *
 * <p>A missing chunk file, or one of the wrong size, makes that read fail with an
 * {@link IOException} naming the chunk and its path (the server answers NBD_EIO and logs
 * it); other reads go on.
 */
public final class ReleaseDevice implements BlockDevice {
    /**
     * Open chunk files kept; each costs a file descriptor. A 1 GiB rootfs has about 16k
     * chunks of 64 KiB; random reads over it miss a small cache almost always, and every
     * miss costs open + fstat + close, so keep thousands (the JVM raises the soft
     * descriptor limit to the hard one, usually far higher).
     */
    public static final int DEFAULT_OPEN_CHUNKS = 8192;

    private final Path release;
    private final ChunkStore store;
    private final StoreDictionary dictionary;
    /** offsets[i] = image offset of the i-th chunk in source order; offsets[n] = size. */
    private final long[] offsets;
    private final int[] sourceOrder;
    private final long size;
    /** Direct-mapped cache slot per unique chunk index: lock-free, no allocation on a hit. */
    private final AtomicReferenceArray<OpenChunk> cache;
    private final int cacheMask;
    private volatile boolean closed;
    private final StoreLock lock;

    private record OpenChunk(int chunk, FileChannel channel) {}

    private ReleaseDevice(Path release, ChunkStore store, StoreDictionary dictionary, int openChunks, StoreLock lock)
            throws MalformedInputException {
        this.release = release;
        this.lock = lock;
        this.store = store;
        this.dictionary = dictionary;
        this.offsets = dictionary.chunkOffsets();
        this.sourceOrder = dictionary.sourceOrder();
        this.size = dictionary.sourceTotalSize();
        MalformedInputException.verify(offsets[offsets.length - 1] == size, release.toString(),
                "chunks add up to " + offsets[offsets.length - 1] + " bytes, not the image size " + size);
        int wanted = Math.min(openChunks, Math.max(1, dictionary.chunks().size()) * 2 - 1);
        int slots = Integer.highestOneBit(Math.max(1, Math.min(wanted, descriptorBudget())));
        this.cache = new AtomicReferenceArray<>(slots);
        this.cacheMask = slots - 1;
    }

    /** Opens the release dictionary file {@code release}; its store is the file's directory. */
    public static ReleaseDevice open(Path release) throws IOException {
        return open(release, DEFAULT_OPEN_CHUNKS);
    }

    public static ReleaseDevice open(Path release, int openChunks) throws IOException {
        ChunkStore store = ChunkStore.ofRelease(release);
        // Held for as long as the device is served, so that gc leaves its chunks alone.
        StoreLock lock = StoreLock.shared(store.root());
        try {
            StoreDictionary dictionary = StoreDictionaryCodec.read(release);
            return new ReleaseDevice(release, store, dictionary, openChunks, lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    @Override
    public long size() {
        return size;
    }

    /** Number of chunks in source order (for tests and logs). */
    public int chunkCount() {
        return sourceOrder.length;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int i = chunkAt(offset);
        long position = offset;
        while (dst.hasRemaining()) {
            long within = position - offsets[i];
            int n = (int) Math.min(dst.remaining(), offsets[i + 1] - position);
            if (n > 0) {
                readChunk(sourceOrder[i], within, dst, n);
                position += n;
            }
            i++;
        }
    }

    /** A quarter of the process's descriptor limit, so several devices and sockets still fit. */
    private static int descriptorBudget() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return (int) Math.max(16, Math.min(Integer.MAX_VALUE, unix.getMaxFileDescriptorCount() / 4));
        }
        return 256;
    }

    /** Index in source order of the chunk holding byte {@code offset}. */
    private int chunkAt(long offset) {
        int i = Arrays.binarySearch(offsets, 0, sourceOrder.length, offset);
        return i >= 0 ? i : -i - 2;
    }

    private void readChunk(int chunk, long within, ByteBuffer dst, int n) throws IOException {
        int limit = dst.limit();
        int start = dst.position();
        dst.limit(start + n);
        try {
            for (int attempt = 0; ; attempt++) {
                // Normally the shared cached channel; if other readers keep evicting it
                // under us, a private one, so every read makes progress.
                boolean shared = attempt < 2;
                FileChannel channel = shared ? channel(chunk) : openChunk(chunk);
                try {
                    while (dst.hasRemaining()) {
                        if (channel.read(dst, within + (dst.position() - start)) < 0) {
                            throw new EOFException(describe(chunk) + " is shorter than its " + chunkSize(chunk) + " bytes");
                        }
                    }
                    return;
                } catch (ClosedChannelException e) {
                    // Another reader evicted and closed this channel.
                    if (closed || !shared) {
                        throw e;
                    }
                } finally {
                    if (!shared) {
                        channel.close();
                    }
                }
            }
        } finally {
            dst.limit(limit);
        }
    }

    private FileChannel channel(int chunk) throws IOException {
        int slot = chunk & cacheMask;
        OpenChunk cached = cache.get(slot);
        if (cached != null && cached.chunk() == chunk) {
            return cached.channel();
        }
        if (closed) {
            throw new ClosedChannelException();
        }
        FileChannel channel = openChunk(chunk);
        OpenChunk previous = cache.getAndSet(slot, new OpenChunk(chunk, channel));
        if (previous != null) {
            previous.channel().close();
        }
        if (closed) {
            closeAll(); // close() may have swept the cache before we filled the slot
        }
        return channel;
    }

    /** Opens a chunk file and checks its size, so a truncated file is reported, not read as short data. */
    private FileChannel openChunk(int chunk) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(chunkPath(chunk), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(describe(chunk) + " is missing");
        }
        long actual = channel.size();
        if (actual != chunkSize(chunk)) {
            channel.close();
            throw new IOException(describe(chunk) + " has " + actual + " bytes, expected " + chunkSize(chunk));
        }
        return channel;
    }

    private int chunkSize(int chunk) {
        return dictionary.chunks().get(chunk).sourceSize();
    }

    private Path chunkPath(int chunk) {
        return store.chunkPath(dictionary.chunks().get(chunk).checksum());
    }

    private String describe(int chunk) {
        HashSum hash = dictionary.chunks().get(chunk).checksum();
        return "chunk " + hash.hex() + " (" + store.chunkPath(hash) + ")";
    }

    @Override
    public void close() throws IOException {
        closed = true;
        try {
            closeAll();
        } finally {
            lock.close();
        }
    }

    private void closeAll() throws IOException {
        for (int i = 0; i < cache.length(); i++) {
            OpenChunk open = cache.getAndSet(i, null);
            if (open != null) {
                open.channel().close();
            }
        }
    }

    @Override
    public String toString() {
        return release.toString();
    }
}
