package dev.ihop.nbd.server;

import static dev.ihop.nbd.protocol.NbdProtocol.*;

import dev.ihop.nbd.device.BlockDevice;
import dev.ihop.nbd.protocol.Replies;
import dev.ihop.nbd.protocol.Request;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The transmission phase of one connection: reads requests, validates them, reads the device
 * and writes replies, in order, until the client sends {@code NBD_CMD_DISC} or closes.
 *
 * <p>It needs no handshake: the kernel attach path starts it directly on its end of a
 * socketpair, with simple replies. Pipelined requests are parsed from one input buffer;
 * buffers are allocated once per connection, so steady-state serving allocates nothing per
 * request. The data buffer grows on demand up to {@link #MAX_DATA_BUFFER}; longer reads are
 * streamed through it, which bounds a connection's memory whatever the request size.
 *
 * <p>Buffers are direct (a heap buffer would be copied into a cached direct one by every
 * socket write), and direct memory is limited per process ({@code -XX:MaxDirectMemorySize},
 * by default the maximum heap). So the growth of data buffers is shared out from one
 * process-wide {@link #GROWTH_BUDGET}: with every connection slot held by a client that asks
 * for large reads and never reads the replies, the buffers stay within the limit, and
 * connections beyond the budget stream through their minimum buffer instead of failing.
 */
public final class Transmission {
    private static final System.Logger LOG = System.getLogger("dev.ihop.nbd");

    /** Room for 585 pipelined request headers; reading more ahead buys nothing. */
    static final int INPUT_BUFFER = 16 * 1024;
    static final int MIN_DATA_BUFFER = 128 * 1024;
    static final int MAX_DATA_BUFFER = 1024 * 1024;
    /**
     * Bytes that data buffers may grow beyond {@link #MIN_DATA_BUFFER}, in total over all
     * connections of the process: a quarter of the default direct memory limit, at most 32 MiB
     * (32 connections reading at full speed at once).
     */
    static final long GROWTH_BUDGET = Math.min(32L << 20, Runtime.getRuntime().maxMemory() / 4);
    private static final AtomicLong grownTotal = new AtomicLong();
    /** Room for a reply header, the offset of a data chunk, or an error chunk with its message. */
    private static final int HEADER_BUFFER = 512;

    private final ReadableByteChannel in;
    private final GatheringByteChannel out;
    private final String exportName;
    private final BlockDevice device;
    private final long size;
    private final boolean structuredReplies;
    private final String peer;

    private final Request request = new Request();
    private final ByteBuffer input = ByteBuffer.allocateDirect(INPUT_BUFFER).flip();
    private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BUFFER);
    private final ByteBuffer[] headerAndData = new ByteBuffer[2];
    private ByteBuffer data = ByteBuffer.allocateDirect(MIN_DATA_BUFFER);
    /** This connection's share of {@link #grownTotal}. */
    private long grown;

    /**
     * @param peer who is at the other end, for log lines
     */
    public Transmission(ReadableByteChannel in, GatheringByteChannel out, Export export,
            boolean structuredReplies, String peer) {
        this.in = in;
        this.out = out;
        this.exportName = export.name();
        this.device = export.device();
        this.size = device.size();
        this.structuredReplies = structuredReplies;
        this.peer = peer;
        headerAndData[0] = header;
    }

    /**
     * Serves requests until {@code NBD_CMD_DISC} or the client closes the connection between
     * requests, then returns.
     *
     * @throws IOException on a broken stream or a client that violates the protocol so that
     *     the connection cannot continue (the caller drops it)
     */
    public void run() throws IOException {
        try {
            serve();
        } finally {
            grownTotal.addAndGet(-grown);
            grown = 0;
        }
    }

    private void serve() throws IOException {
        while (fill(REQUEST_SIZE)) {
            request.decode(input);
            int type = request.type();
            if (type == NBD_CMD_DISC) {
                return;
            }
            int error = request.check(size, structuredReplies);
            if (request.payloadLength() > 0 && !discardPayload()) {
                replyError(error, "write of " + request.length() + " bytes exceeds the maximum request size");
                throw new IOException(peer + ": " + request + " exceeds the maximum request size of "
                        + MAX_REQUEST_LENGTH + " bytes; dropping the connection");
            }
            if (error != NBD_OK) {
                replyError(error, describe(error));
            } else if (type == NBD_CMD_READ) {
                serveRead();
            } else {
                replyOk(); // NBD_CMD_FLUSH: nothing is ever written, so nothing to flush
            }
        }
    }

    private void serveRead() throws IOException {
        long offset = request.offset();
        int length = (int) request.length(); // checked: at most MAX_REQUEST_LENGTH
        long handle = request.handle();
        ByteBuffer buffer = dataBuffer(length);
        int first = Math.min(length, buffer.capacity());
        buffer.clear().limit(first);
        try {
            device.read(offset, buffer);
        } catch (IOException e) {
            logReadFailure(offset, length, e);
            replyError(NBD_EIO, "read failed: " + e.getMessage());
            return;
        }
        buffer.flip();
        boolean whole = first == length;
        header.clear();
        if (structuredReplies) {
            // One content chunk for the whole request, so NBD_CMD_FLAG_DF is always honoured.
            Replies.offsetData(header, whole, handle, offset, length);
        } else {
            Replies.simple(header, NBD_OK, handle);
        }
        header.flip();
        headerAndData[1] = buffer;
        ChannelIo.writeFully(out, headerAndData);
        long done = first;
        while (done < length) {
            int n = (int) Math.min(length - done, buffer.capacity());
            buffer.clear().limit(n);
            try {
                device.read(offset + done, buffer);
            } catch (IOException e) {
                logReadFailure(offset + done, n, e);
                if (!structuredReplies) {
                    // A simple reply has promised all the data: the protocol demands a hard disconnect.
                    throw new IOException(peer + ": read failed after the reply header was sent; dropping the connection", e);
                }
                padChunk(length - done);
                replyError(NBD_EIO, "read failed: " + e.getMessage());
                return;
            }
            buffer.flip();
            ChannelIo.writeFully(out, buffer);
            done += n;
        }
        if (structuredReplies && !whole) {
            header.clear();
            Replies.done(header, handle);
            header.flip();
            ChannelIo.writeFully(out, header);
        }
    }

    /** Completes a data chunk whose header is sent, with zeros, as the protocol requires before an error chunk. */
    private void padChunk(long count) throws IOException {
        ByteBuffer buffer = data;
        MemorySegment.ofBuffer(buffer.clear()).fill((byte) 0);
        long left = count;
        while (left > 0) {
            int n = (int) Math.min(left, buffer.capacity());
            buffer.clear().limit(n);
            ChannelIo.writeFully(out, buffer);
            left -= n;
        }
    }

    /** The data buffer, grown towards {@code length} if the budget allows; else streaming goes through the current one. */
    private ByteBuffer dataBuffer(int length) {
        if (data.capacity() < length && data.capacity() < MAX_DATA_BUFFER) {
            int capacity = Math.min(MAX_DATA_BUFFER, Integer.highestOneBit(length - 1) << 1);
            long more = capacity - MIN_DATA_BUFFER - grown;
            if (reserve(more)) {
                data = ByteBuffer.allocateDirect(capacity);
                grown += more;
            }
        }
        return data;
    }

    private static boolean reserve(long bytes) {
        long total;
        do {
            total = grownTotal.get();
            if (total + bytes > GROWTH_BUDGET) {
                return false;
            }
        } while (!grownTotal.compareAndSet(total, total + bytes));
        return true;
    }

    private void replyOk() throws IOException {
        header.clear();
        Replies.simple(header, NBD_OK, request.handle());
        header.flip();
        ChannelIo.writeFully(out, header);
    }

    private void replyError(int error, String message) throws IOException {
        header.clear();
        if (structuredReplies) {
            // Required for reads once structured replies are negotiated, and it carries a message.
            Replies.error(header, request.handle(), error, message);
        } else {
            Replies.simple(header, error, request.handle());
        }
        header.flip();
        ChannelIo.writeFully(out, header);
    }

    private String describe(int error) {
        if (!structuredReplies) {
            return ""; // a simple reply carries no message; build none
        }
        return switch (error) {
            case NBD_EPERM -> "export '" + exportName + "' is read-only";
            case NBD_EOVERFLOW -> "request of " + request.length() + " bytes exceeds the maximum of " + MAX_REQUEST_LENGTH;
            default -> "invalid request: " + request + " (export size " + size + ")";
        };
    }

    private void logReadFailure(long offset, long length, IOException e) {
        LOG.log(System.Logger.Level.WARNING, "export ''{0}'': read of {1} bytes at offset {2} failed, replying NBD_EIO: {3}",
                exportName, length, offset, e.getMessage());
    }

    /** Skips the data of a write; false when it is too long to be worth reading. */
    private boolean discardPayload() throws IOException {
        long left = request.payloadLength();
        if (left > MAX_REQUEST_LENGTH) {
            return false;
        }
        while (left > 0) {
            if (!input.hasRemaining()) {
                input.clear();
                int n = in.read(input);
                input.flip();
                if (n < 0) {
                    throw new EOFException(peer + ": client closed the connection in the middle of write data");
                }
            }
            int skip = (int) Math.min(left, input.remaining());
            input.position(input.position() + skip);
            left -= skip;
        }
        return true;
    }

    /**
     * Makes {@code n} bytes available in {@code input}; false on a clean end of stream
     * (the client closed between requests).
     */
    private boolean fill(int n) throws IOException {
        if (input.remaining() >= n) {
            return true;
        }
        input.compact();
        try {
            while (input.position() < n) {
                if (in.read(input) < 0) {
                    if (input.position() == 0) {
                        return false;
                    }
                    throw new EOFException(peer + ": client closed the connection in the middle of a request");
                }
            }
            return true;
        } finally {
            input.flip();
        }
    }
}
