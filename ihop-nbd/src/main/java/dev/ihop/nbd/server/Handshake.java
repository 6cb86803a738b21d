package dev.ihop.nbd.server;

import dev.ihop.nbd.protocol.NbdProtocol;
import static dev.ihop.nbd.protocol.NbdProtocol.*;

import dev.ihop.format.MalformedInputException;
import dev.ihop.nbd.protocol.Options;
import dev.ihop.nbd.protocol.Options.InfoRequest;
import dev.ihop.nbd.protocol.Options.OptionHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.util.List;

/**
 * The fixed-newstyle handshake, server side: greeting, client flags, then option haggling
 * until the client picks an export ({@code NBD_OPT_GO} or {@code NBD_OPT_EXPORT_NAME}) or
 * aborts. Supports {@code NBD_OPT_INFO}, {@code NBD_OPT_LIST} and
 * {@code NBD_OPT_STRUCTURED_REPLY}; other options are answered {@code NBD_REP_ERR_UNSUP}.
 */
public final class Handshake {
    /** Preferred block size advertised in {@code NBD_INFO_BLOCK_SIZE}: a page. */
    static final int PREFERRED_BLOCK_SIZE = 4096;

    /** What the client chose: the export, and whether replies to reads are structured. */
    public record Result(Export export, boolean structuredReplies) {}

    private final ReadableByteChannel in;
    private final GatheringByteChannel out;
    private final List<Export> exports;
    private final ByteBuffer header = ByteBuffer.allocate(Options.OPTION_REPLY_SIZE);
    private boolean structuredReplies;
    private boolean noZeroes;

    public Handshake(ReadableByteChannel in, GatheringByteChannel out, List<Export> exports) {
        if (exports.isEmpty()) {
            throw new IllegalArgumentException("no exports");
        }
        this.in = in;
        this.out = out;
        this.exports = List.copyOf(exports);
    }

    /**
     * Runs the handshake.
     *
     * @return the negotiated export, or null when the client aborted
     * @throws IOException when the client breaks the protocol or names an unknown export
     *     with {@code NBD_OPT_EXPORT_NAME} (which cannot be refused other than by closing)
     */
    public Result negotiate() throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(Options.GREETING_SIZE);
        Options.greeting(greeting, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
        ChannelIo.writeFully(out, greeting.flip());

        ByteBuffer clientFlags = ByteBuffer.allocate(4);
        ChannelIo.readFully(in, clientFlags, "the client flags");
        int flags = clientFlags.flip().getInt();
        MalformedInputException.verify((flags & ~(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) == 0,
                "NBD client flags", "unknown bits in 0x" + Integer.toHexString(flags));
        noZeroes = (flags & NBD_FLAG_C_NO_ZEROES) != 0;

        ByteBuffer optionHeader = ByteBuffer.allocate(Options.OPTION_HEADER_SIZE);
        while (true) {
            ChannelIo.readFully(in, optionHeader.clear(), "an option header");
            OptionHeader option = OptionHeader.decode(optionHeader.flip());
            MalformedInputException.verify(option.length() <= Options.MAX_OPTION_LENGTH, "NBD option " + option.option(),
                    "data length " + option.length() + " exceeds " + Options.MAX_OPTION_LENGTH);
            ByteBuffer data = ByteBuffer.allocate((int) option.length());
            ChannelIo.readFully(in, data, "option data");
            data.flip();
            Result result = handle(option.option(), data);
            if (result != null) {
                return result.export() == null ? null : result;
            }
        }
    }

    /** Answers one option; non-null ends the handshake (a null export meaning abort). */
    private Result handle(int option, ByteBuffer data) throws IOException {
        switch (option) {
            case NBD_OPT_EXPORT_NAME -> {
                MalformedInputException.verify(data.remaining() <= NbdProtocol.MAX_STRING_LENGTH, "NBD_OPT_EXPORT_NAME",
                        "export name of " + data.remaining() + " bytes is longer than " + NbdProtocol.MAX_STRING_LENGTH);
                String name = Options.utf8(data, data.remaining(), "export name");
                Export export = find(name);
                if (export == null) {
                    // The name is client text headed for a log line: no control characters, bounded above.
                    throw new IOException("client asked for unknown export '" + name.replaceAll("\\p{Cntrl}", "?") + "'");
                }
                ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
                reply.putLong(export.device().size()).putShort((short) transmissionFlags());
                ChannelIo.writeFully(out, reply.clear());
                return new Result(export, structuredReplies);
            }
            case NBD_OPT_ABORT -> {
                try {
                    reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
                } catch (IOException e) {
                    // The client may close without waiting for the acknowledgement.
                }
                return new Result(null, false);
            }
            case NBD_OPT_LIST -> {
                if (data.hasRemaining()) {
                    error(option, NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                    return null;
                }
                for (Export export : exports) {
                    byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
                    reply(option, NBD_REP_SERVER, ByteBuffer.allocate(4 + name.length).putInt(name.length).put(name).flip());
                }
                reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
                return null;
            }
            case NBD_OPT_STRUCTURED_REPLY -> {
                if (data.hasRemaining()) {
                    error(option, NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                    return null;
                }
                structuredReplies = true;
                reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
                return null;
            }
            case NBD_OPT_INFO, NBD_OPT_GO -> {
                InfoRequest request;
                try {
                    request = InfoRequest.decode(data);
                } catch (MalformedInputException e) {
                    error(option, NBD_REP_ERR_INVALID, e.getMessage());
                    return null;
                }
                Export export = find(request.exportName());
                if (export == null) {
                    error(option, NBD_REP_ERR_UNKNOWN, "no export named '" + request.exportName() + "'");
                    return null;
                }
                reply(option, NBD_REP_INFO, ByteBuffer.allocate(12).putShort((short) NBD_INFO_EXPORT)
                        .putLong(export.device().size()).putShort((short) transmissionFlags()).flip());
                if (request.requests(NBD_INFO_NAME)) {
                    byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
                    reply(option, NBD_REP_INFO, ByteBuffer.allocate(2 + name.length)
                            .putShort((short) NBD_INFO_NAME).put(name).flip());
                }
                // Sent unasked too (as nbdkit and qemu do): clients that ignore it lose nothing.
                reply(option, NBD_REP_INFO, ByteBuffer.allocate(14).putShort((short) NBD_INFO_BLOCK_SIZE)
                        .putInt(1).putInt(PREFERRED_BLOCK_SIZE).putInt(MAX_REQUEST_LENGTH).flip());
                reply(option, NBD_REP_ACK, ByteBuffer.allocate(0));
                return option == NBD_OPT_GO ? new Result(export, structuredReplies) : null;
            }
            default -> {
                error(option, NBD_REP_ERR_UNSUP, "option " + option + " is not supported");
                return null;
            }
        }
    }

    private int transmissionFlags() {
        return NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH | NBD_FLAG_CAN_MULTI_CONN
                | (structuredReplies ? NBD_FLAG_SEND_DF : 0);
    }

    /** An export by name; the empty name is the default export, the first one. */
    private Export find(String name) {
        if (name.isEmpty()) {
            return exports.getFirst();
        }
        for (Export export : exports) {
            if (export.name().equals(name)) {
                return export;
            }
        }
        return null;
    }

    private void error(int option, int type, String message) throws IOException {
        reply(option, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }

    private void reply(int option, int type, ByteBuffer payload) throws IOException {
        header.clear();
        Options.replyHeader(header, option, type, payload.remaining());
        ChannelIo.writeFully(out, new ByteBuffer[] {header.flip(), payload});
    }
}
