package dev.ihop.cli;

import java.io.PrintWriter;
import java.util.function.Supplier;

/**
 * A progress line on stderr, redrawn at most a few times a second, only when stderr is
 * a terminal (so logs and pipes stay clean).
 */
final class TerminalProgress implements AutoCloseable {
    private static final long INTERVAL_NANOS = 250_000_000L;
    private final PrintWriter err;
    private final boolean enabled;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int lastWidth;

    TerminalProgress(PrintWriter err) {
        this.err = err;
        this.enabled = System.console() != null && System.console().isTerminal();
    }

    long elapsedNanos() {
        return System.nanoTime() - start;
    }

    /** Redraws if enough time has passed; {@code line} is only evaluated then. */
    void update(Supplier<String> line) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < INTERVAL_NANOS) {
            return;
        }
        lastDraw = now;
        String s = line.get();
        err.print("\r" + s + " ".repeat(Math.max(0, lastWidth - s.length())));
        err.flush();
        lastWidth = s.length();
    }

    /** Bytes per second so far, formatted. */
    String rate(long bytes) {
        double seconds = Math.max(1e-9, elapsedNanos() / 1e9);
        return ByteSize.human((long) (bytes / seconds)) + "/s";
    }

    @Override
    public void close() {
        if (enabled && lastWidth > 0) {
            err.print("\r" + " ".repeat(lastWidth) + "\r");
            err.flush();
        }
    }
}
