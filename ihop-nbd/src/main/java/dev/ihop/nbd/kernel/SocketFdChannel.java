package dev.ihop.nbd.kernel;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.GatheringByteChannel;

/**
 * A blocking channel over a raw socket descriptor from {@link Linux#socketpair()}: the JDK
 * cannot wrap a descriptor it did not create, so reads and writes go through
 * {@code read}/{@code writev} directly. Only direct buffers are accepted (the transmission
 * loop allocates nothing else), so no bytes are copied on the way.
 *
 * <p>One thread reads and writes; any thread may {@link #shutdown()} to wake it.
 * {@link #close()} belongs to the owning thread, so the descriptor number is never reused
 * under a reader's feet.
 */
final class SocketFdChannel implements ByteChannel, GatheringByteChannel {
    private static final int MAX_IOVECS = 8;
    private static final long IOVEC_SIZE = 16; // struct iovec { void *base; size_t len; }

    private final int fd;
    private final MemorySegment iovecs = Arena.ofAuto().allocate(IOVEC_SIZE * MAX_IOVECS, 8);
    private final ByteBuffer[] single = new ByteBuffer[1];
    private volatile boolean open = true;

    SocketFdChannel(int fd) {
        this.fd = fd;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        ensureOpen();
        if (!dst.hasRemaining()) {
            return 0;
        }
        long n = Linux.read(fd, MemorySegment.ofBuffer(requireDirect(dst)));
        if (n == 0) {
            return -1;
        }
        dst.position(dst.position() + (int) n);
        return (int) n;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        single[0] = src;
        try {
            return (int) write(single, 0, 1);
        } finally {
            single[0] = null;
        }
    }

    @Override
    public long write(ByteBuffer[] srcs) throws IOException {
        return write(srcs, 0, srcs.length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        ensureOpen();
        int count = 0;
        for (int i = offset; i < offset + length && count < MAX_IOVECS; i++) {
            ByteBuffer b = srcs[i];
            if (b.hasRemaining()) {
                MemorySegment segment = MemorySegment.ofBuffer(requireDirect(b));
                iovecs.setAtIndex(JAVA_LONG, 2L * count, segment.address());
                iovecs.setAtIndex(JAVA_LONG, 2L * count + 1, segment.byteSize());
                count++;
            }
        }
        if (count == 0) {
            return 0;
        }
        long written = Linux.writev(fd, iovecs, count);
        long left = written;
        for (int i = offset; i < offset + length && left > 0; i++) {
            ByteBuffer b = srcs[i];
            int step = (int) Math.min(left, b.remaining());
            b.position(b.position() + step);
            left -= step;
        }
        return written;
    }

    private static ByteBuffer requireDirect(ByteBuffer b) {
        if (!b.isDirect()) {
            throw new IllegalArgumentException("SocketFdChannel needs direct buffers");
        }
        return b;
    }

    private void ensureOpen() throws ClosedChannelException {
        if (!open) {
            throw new ClosedChannelException();
        }
    }

    /** Shuts the socket down both ways, waking a blocked reader; safe from any thread. */
    void shutdown() {
        try {
            Linux.shutdown(fd);
        } catch (ErrnoException e) {
            // already shut down or closed by the peer
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() throws IOException {
        if (open) {
            open = false;
            shutdown();
            Linux.close(fd);
        }
    }
}
