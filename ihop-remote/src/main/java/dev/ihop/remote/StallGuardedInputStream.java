package dev.ihop.remote;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A response body that is closed when no byte arrives for the timeout. HttpClient's request
 * timeout ends once the headers are in, so without this a server that stops sending
 * mid-body would block a read forever. Closing the stream from the timer thread wakes the
 * blocked read, which then fails; {@link #stalled()} tells that failure apart.
 */
final class StallGuardedInputStream extends InputStream {
    private final InputStream in;
    private final long timeoutNanos;
    private final ScheduledExecutorService timer;
    private volatile long lastProgress;
    private volatile boolean stalled;
    private volatile boolean closed;
    private ScheduledFuture<?> check;

    StallGuardedInputStream(InputStream in, Duration timeout, ScheduledExecutorService timer) {
        this.in = in;
        this.timeoutNanos = timeout.toNanos();
        this.timer = timer;
        this.lastProgress = System.nanoTime();
        schedule(timeoutNanos);
    }

    /** True when the stream was closed because the server sent nothing for the timeout. */
    boolean stalled() {
        return stalled;
    }

    // Re-armed from the last progress instead of on every read: one timer event per timeout.
    private synchronized void schedule(long delayNanos) {
        if (!closed) {
            check = timer.schedule(this::check, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void check() {
        long idle = System.nanoTime() - lastProgress;
        if (idle < timeoutNanos) {
            schedule(timeoutNanos - idle);
            return;
        }
        stalled = true;
        try {
            close();
        } catch (IOException ignored) {
            // The reader sees the closed stream and reports the stall.
        }
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        lastProgress = System.nanoTime();
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        lastProgress = System.nanoTime();
        return n;
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            closed = true;
            if (check != null) {
                check.cancel(false);
            }
        }
        in.close();
    }
}
