package dev.ihop.nbd.testing;

import static dev.ihop.nbd.protocol.NbdProtocol.*;

import dev.ihop.nbd.protocol.Options;
import dev.ihop.nbd.protocol.Request;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A small, strict NBD client for protocol tests: it checks every reply it reads. */
public final class TestClient implements AutoCloseable {
    public final SocketChannel channel;
    public long size;
    public int transmissionFlags;
    public boolean structured;

    public TestClient(SocketAddress address) throws IOException {
        channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        channel.connect(address);
    }

    /** Reads the greeting and sends client flags. */
    public void greet() throws IOException {
        ByteBuffer g = readExactly(18);
        check(g.getLong() == NBDMAGIC, "NBDMAGIC");
        check(g.getLong() == IHAVEOPT, "IHAVEOPT");
        check((g.getShort() & NBD_FLAG_FIXED_NEWSTYLE) != 0, "fixed newstyle");
        write(ByteBuffer.allocate(4).putInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES).flip());
    }

    public void sendOption(int option, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16 + data.remaining());
        Options.OptionHeader.encode(h, option, data.remaining());
        h.put(data.duplicate());
        write(h.flip());
    }

    public record OptionReply(int option, int type, ByteBuffer data) {
        public String text() {
            return StandardCharsets.UTF_8.decode(data.duplicate()).toString();
        }
    }

    public OptionReply readOptionReply() throws IOException {
        ByteBuffer h = readExactly(20);
        check(h.getLong() == NBD_REP_MAGIC, "option reply magic");
        int option = h.getInt();
        int type = h.getInt();
        int length = h.getInt();
        check(length >= 0 && length < 1 << 20, "option reply length");
        return new OptionReply(option, type, readExactly(length));
    }

    public static ByteBuffer infoData(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.flip();
    }

    /** Full handshake with NBD_OPT_GO; returns the option replies seen (the last is the ACK). */
    public List<OptionReply> connect(String exportName, boolean structuredReplies) throws IOException {
        greet();
        return go(exportName, structuredReplies);
    }

    /** Ends option haggling with NBD_OPT_GO (after NBD_OPT_STRUCTURED_REPLY if asked for). */
    public List<OptionReply> go(String exportName, boolean structuredReplies) throws IOException {
        if (structuredReplies) {
            sendOption(NBD_OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
            OptionReply r = readOptionReply();
            check(r.type() == NBD_REP_ACK, "structured reply ACK");
            structured = true;
        }
        sendOption(NBD_OPT_GO, infoData(exportName, NBD_INFO_BLOCK_SIZE));
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply r = readOptionReply();
            replies.add(r);
            if (r.type() == NBD_REP_INFO && r.data().getShort(0) == NBD_INFO_EXPORT) {
                size = r.data().getLong(2);
                transmissionFlags = Short.toUnsignedInt(r.data().getShort(10));
            }
            if (r.type() != NBD_REP_INFO) {
                break;
            }
        }
        check(replies.getLast().type() == NBD_REP_ACK, "GO ACK, got 0x" + Integer.toHexString(replies.getLast().type()) + " " + replies.getLast().text());
        return replies;
    }

    public void sendRequest(int flags, int type, long handle, long offset, int length) throws IOException {
        ByteBuffer r = ByteBuffer.allocate(REQUEST_SIZE);
        Request.encode(r, flags, type, handle, offset, length);
        write(r.flip());
    }

    /** Result of one request: the error (0 on success) and, for a read, the data. */
    public record Reply(long handle, int error, byte[] data, String message) {}

    /** Reads the complete reply to a read of {@code length} bytes at {@code offset}. */
    public Reply readReadReply(long offset, int length) throws IOException {
        if (!structured) {
            ByteBuffer h = readExactly(16);
            check(h.getInt() == NBD_SIMPLE_REPLY_MAGIC, "simple reply magic");
            int error = h.getInt();
            long handle = h.getLong();
            return new Reply(handle, error, error == 0 ? readExactly(length).array() : null, null);
        }
        byte[] data = new byte[length];
        boolean[] seen = new boolean[length];
        int error = 0;
        String message = null;
        long handle;
        while (true) {
            ByteBuffer h = readExactly(20);
            check(h.getInt() == NBD_STRUCTURED_REPLY_MAGIC, "structured reply magic");
            int flags = h.getShort();
            int type = Short.toUnsignedInt(h.getShort());
            handle = h.getLong();
            int chunkLength = h.getInt();
            ByteBuffer payload = readExactly(chunkLength);
            switch (type) {
                case NBD_REPLY_TYPE_OFFSET_DATA -> {
                    long at = payload.getLong();
                    int n = chunkLength - 8;
                    check(n > 0 && at >= offset && at - offset + n <= length, "data chunk within the request");
                    for (int i = 0; i < n; i++) {
                        int k = (int) (at - offset) + i;
                        check(!seen[k], "no overlapping chunks");
                        seen[k] = true;
                        data[k] = payload.get();
                    }
                }
                case NBD_REPLY_TYPE_NONE -> check(chunkLength == 0, "NONE has no payload");
                case NBD_REPLY_TYPE_ERROR -> {
                    error = payload.getInt();
                    int ml = Short.toUnsignedInt(payload.getShort());
                    byte[] m = new byte[ml];
                    payload.get(m);
                    message = new String(m, StandardCharsets.UTF_8);
                    check(error != 0, "error chunk has an error");
                }
                default -> throw new IOException("unexpected chunk type " + type);
            }
            if ((flags & NBD_REPLY_FLAG_DONE) != 0) {
                break;
            }
        }
        if (error == 0) {
            for (boolean b : seen) {
                check(b, "every byte covered");
            }
        }
        return new Reply(handle, error, error == 0 ? data : null, message);
    }

    /** Reads the reply to a request that carries no data (simple or structured). */
    public Reply readNoDataReply() throws IOException {
        ByteBuffer m = readExactly(4);
        int magic = m.getInt();
        if (magic == NBD_SIMPLE_REPLY_MAGIC) {
            ByteBuffer h = readExactly(12);
            int error = h.getInt();
            return new Reply(h.getLong(), error, null, null);
        }
        check(magic == NBD_STRUCTURED_REPLY_MAGIC, "reply magic");
        ByteBuffer h = readExactly(16);
        int flags = h.getShort();
        int type = Short.toUnsignedInt(h.getShort());
        long handle = h.getLong();
        ByteBuffer payload = readExactly(h.getInt());
        check((flags & NBD_REPLY_FLAG_DONE) != 0, "single final chunk");
        if (type == NBD_REPLY_TYPE_ERROR) {
            int error = payload.getInt();
            byte[] msg = new byte[Short.toUnsignedInt(payload.getShort())];
            payload.get(msg);
            return new Reply(handle, error, null, new String(msg, StandardCharsets.UTF_8));
        }
        return new Reply(handle, 0, null, null);
    }

    public byte[] read(long offset, int length) throws IOException {
        sendRequest(0, NBD_CMD_READ, offset ^ 0x5a5a, offset, length);
        Reply r = readReadReply(offset, length);
        check(r.handle() == (offset ^ 0x5a5a), "handle echoed");
        if (r.error() != 0) {
            throw new IOException("read error " + r.error() + " " + r.message());
        }
        return r.data();
    }

    public void disconnect() throws IOException {
        sendRequest(0, NBD_CMD_DISC, 0, 0, 0);
    }

    /** True when the server has closed the connection (reads end of stream). */
    public boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            return channel.read(b) < 0;
        } catch (IOException e) {
            return true; // connection reset
        }
    }

    public ByteBuffer readExactly(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("server closed the connection");
            }
        }
        return b.flip();
    }

    public void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private static void check(boolean ok, String what) throws IOException {
        if (!ok) {
            throw new IOException("protocol check failed: " + what);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
