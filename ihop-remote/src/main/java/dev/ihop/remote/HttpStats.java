package dev.ihop.remote;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What an {@link HttpArchiveSource} has done so far, for progress lines and tests.
 * Thread-safe; the figures only grow.
 */
public final class HttpStats {
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong bytesDownloaded = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();

    /** HTTP requests sent, retries included. */
    public long requests() {
        return requests.get();
    }

    /**
     * Response body bytes received, including the gaps between merged ranges and, when a
     * server ignores {@code Range}, the skipped head of the file.
     */
    public long bytesDownloaded() {
        return bytesDownloaded.get();
    }

    /** Attempts that failed and were tried again. */
    public long retries() {
        return retries.get();
    }

    void request() {
        requests.incrementAndGet();
    }

    void downloaded(long n) {
        bytesDownloaded.addAndGet(n);
    }

    void retry() {
        retries.incrementAndGet();
    }

    @Override
    public String toString() {
        return requests() + " requests, " + bytesDownloaded() + " bytes, " + retries() + " retries";
    }
}
