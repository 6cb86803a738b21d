package dev.ihop.store;

import dev.ihop.format.Archive;
import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkDescriptor;
import dev.ihop.format.HashSum;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Checks a release in its store: every distinct chunk against its hash, then the image
 * against the source checksum; names each chunk that is missing or wrong. Repair fetches
 * exactly those chunks from an archive and checks again.
 *
 * <p>The image is hashed in order on the calling thread while other threads hash the
 * chunks, so two cores share the work; chunks in flight are bounded.
 */
public final class ReleaseVerify {

    public enum Problem {
        MISSING("missing"), WRONG_SIZE("wrong size"), WRONG_CONTENT("wrong content"), UNREADABLE("unreadable");

        private final String text;

        Problem(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * A chunk that is not as the release needs it.
     *
     * @param imageOffset where it first appears in the image
     */
    public record BadChunk(HashSum hash, int size, long imageOffset, Path file, Problem problem, String detail) {
    }

    /**
     * The outcome.
     *
     * @param imageMatches whether the image hashes to the source checksum; null when not
     *                     checked because chunks are bad
     */
    public record Report(Path release, long imageSize, int chunks, int uniqueChunks, List<BadChunk> bad, Boolean imageMatches) {
        public boolean ok() {
            return bad.isEmpty() && Boolean.TRUE.equals(imageMatches);
        }
    }

    /** What a repair fetched. */
    public record Repair(int chunks, long archiveBytes, long bytesWritten, Report after) {
    }

    private ReleaseVerify() {
    }

    public static Report run(Path release, int threads, ReleaseClone.Listener listener) throws IOException {
        StoreDictionary d = StoreDictionaryCodec.read(release);
        ChunkStore store = ChunkStore.ofRelease(release);
        int workers = Math.max(1, threads);
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "ihop-verify");
            t.setDaemon(true);
            return t;
        });
        Semaphore inFlight = new Semaphore(2 * workers);
        ConcurrentLinkedQueue<BadChunk> bad = new ConcurrentLinkedQueue<>();
        boolean[] seen = new boolean[d.chunks().size()];
        boolean[] unusable = new boolean[d.chunks().size()];
        Blake2b image = new Blake2b();
        long offset = 0;
        int lastIndex = -1;
        byte[] last = null;
        try {
            for (int position = 0; position < d.sourceOrder().length; position++) {
                int index = d.sourceOrder()[position];
                StoreDictionary.StoreChunk c = d.chunks().get(index);
                if (unusable[index]) {
                    offset += c.sourceSize();
                    continue;
                }
                byte[] data = index == lastIndex ? last : null;
                if (data == null) {
                    Path file = store.chunkPath(c.checksum());
                    try {
                        long size = Files.size(file);
                        if (size != c.sourceSize()) {
                            bad.add(new BadChunk(c.checksum(), c.sourceSize(), offset, file, Problem.WRONG_SIZE,
                                    "chunk file has " + size + " bytes, expected " + c.sourceSize()));
                        } else {
                            data = store.readChunk(c.checksum(), c.sourceSize());
                        }
                    } catch (NoSuchFileException e) {
                        bad.add(new BadChunk(c.checksum(), c.sourceSize(), offset, file, Problem.MISSING, "no chunk file"));
                    } catch (IOException e) {
                        bad.add(new BadChunk(c.checksum(), c.sourceSize(), offset, file, Problem.UNREADABLE, e.getMessage()));
                    }
                    if (data == null) {
                        unusable[index] = true;
                        seen[index] = true;
                        offset += c.sourceSize();
                        continue;
                    }
                }
                if (!seen[index]) {
                    seen[index] = true;
                    byte[] chunk = data;
                    long at = offset;
                    acquire(inFlight);
                    pool.execute(() -> {
                        try {
                            HashSum actual = Blake2b.chunkHash(chunk, 0, chunk.length, c.checksum().length());
                            if (!actual.equals(c.checksum())) {
                                bad.add(new BadChunk(c.checksum(), c.sourceSize(), at, store.chunkPath(c.checksum()),
                                        Problem.WRONG_CONTENT, "its content hashes to " + actual.hex()));
                            }
                        } finally {
                            inFlight.release();
                        }
                    });
                }
                image.update(data);
                lastIndex = index;
                last = data;
                offset += c.sourceSize();
                listener.progress(offset, d.sourceTotalSize());
            }
            acquire(inFlight, 2 * workers);
        } finally {
            pool.shutdownNow();
        }
        List<BadChunk> sorted = new ArrayList<>(bad);
        sorted.sort(Comparator.comparingLong(BadChunk::imageOffset));
        Boolean matches = sorted.isEmpty() ? image.sum().equals(d.sourceChecksum()) : null;
        return new Report(release, d.sourceTotalSize(), d.sourceOrder().length, d.chunks().size(), List.copyOf(sorted), matches);
    }

    /**
     * Fetches the chunks {@code report} names from {@code archive} and verifies again.
     * Holds the store's shared lock meanwhile, so gc cannot take the temp files.
     */
    public static Repair repair(Report report, Archive archive, int threads, ReleaseClone.Listener listener) throws IOException {
        Path release = report.release();
        ChunkStore store = ChunkStore.ofRelease(release);
        StoreDictionary d = StoreDictionaryCodec.read(release);
        if (archive.dictionary().hashLength() != d.hashLength()) {
            throw new IOException(archive.source().describe() + " uses " + archive.dictionary().hashLength()
                    + "-byte chunk hashes but " + release + " uses " + d.hashLength() + "; it is not the archive the release came from");
        }
        Map<HashSum, ChunkDescriptor> inArchive = new HashMap<>();
        for (ChunkDescriptor c : archive.dictionary().descriptors()) {
            inArchive.put(c.checksum(), c);
        }
        List<ChunkDescriptor> wanted = new ArrayList<>();
        for (BadChunk b : report.bad()) {
            ChunkDescriptor c = inArchive.get(b.hash());
            if (c == null || c.sourceSize() != b.size()) {
                throw new IOException(archive.source().describe() + " does not contain chunk " + b.hash().hex()
                        + " that " + release + " needs; give the archive the release was cloned from");
            }
            wanted.add(c);
        }
        try (StoreLock lock = StoreLock.shared(store.root())) {
            ReleaseClone.Fetch f = wanted.isEmpty() ? new ReleaseClone.Fetch(0, 0)
                    : ReleaseClone.fetchChunks(archive, store, wanted, threads, listener);
            return new Repair(wanted.size(), f.archiveBytes(), f.bytesWritten(), run(release, threads, listener));
        }
    }

    private static void acquire(Semaphore s) throws InterruptedIOException {
        acquire(s, 1);
    }

    private static void acquire(Semaphore s, int permits) throws InterruptedIOException {
        try {
            s.acquire(permits);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("verify interrupted");
        }
    }
}
