package dev.ihop.format;

import java.io.EOFException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/** Helpers for feeding hostile bytes to parsers and measuring what they allocate. */
public final class HostileBytes {
    private HostileBytes() {
    }

    /**
     * An archive held in memory that may claim to be larger than it is, as a lying HTTP
     * server can. Like HttpArchiveSource, a read allocates the bytes asked for before any
     * arrive, so a parser that asks for a length it has not bounded allocates it here too.
     */
    public static final class MemorySource implements ArchiveSource {
        private final byte[] bytes;
        private final long claimedSize;

        public MemorySource(byte[] bytes) {
            this(bytes, bytes.length);
        }

        public MemorySource(byte[] bytes, long claimedSize) {
            this.bytes = bytes;
            this.claimedSize = claimedSize;
        }

        @Override
        public String describe() {
            return "memory.cba";
        }

        @Override
        public long size() {
            return claimedSize;
        }

        @Override
        public byte[] read(long offset, int length) throws IOException {
            if (offset < 0 || length < 0 || offset > claimedSize || length > claimedSize - offset) {
                throw new EOFException("memory.cba: wanted " + length + " bytes at " + offset + " of " + claimedSize);
            }
            byte[] out = new byte[length];
            if (offset + length > bytes.length) {
                throw new EOFException("memory.cba: the connection ended at " + bytes.length);
            }
            System.arraycopy(bytes, (int) offset, out, 0, length);
            return out;
        }

        @Override
        public void close() {
        }
    }

    /** Something that may throw. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    /** What an action allocated on the calling thread, and what it threw (null if nothing). */
    public record Measured(long allocatedBytes, Throwable thrown) {}

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Runs {@code action} and reports the bytes it allocated on this thread (HotSpot's TLAB accounting). */
    public static Measured measure(Action action) {
        long id = Thread.currentThread().threadId();
        long before = THREADS.getThreadAllocatedBytes(id);
        Throwable thrown = null;
        try {
            action.run();
        } catch (Throwable t) {
            thrown = t;
        }
        return new Measured(THREADS.getThreadAllocatedBytes(id) - before, thrown);
    }

    /** Little-endian u64 at {@code offset}. */
    public static byte[] withLong(byte[] b, int offset, long value) {
        byte[] out = Arrays.copyOf(b, b.length);
        for (int i = 0; i < 8; i++) {
            out[offset + i] = (byte) (value >>> (8 * i));
        }
        return out;
    }
}
