package dev.ihop.nbd.protocol;

import static dev.ihop.nbd.protocol.NbdProtocol.*;

import dev.ihop.format.MalformedInputException;
import java.nio.ByteBuffer;

/**
 * A transmission-phase request header, decoded in place: each connection owns one instance
 * and reuses it for every request, so serving allocates nothing per request.
 *
 * <p>Wire layout (big-endian), {@value NbdProtocol#REQUEST_SIZE} bytes:
 * <table>
 *   <caption>NBD request header</caption>
 *   <tr><th>Offset</th><th>Size</th><th>Content</th></tr>
 *   <tr><td>0</td><td>4</td><td>{@code NBD_REQUEST_MAGIC} 0x25609513</td></tr>
 *   <tr><td>4</td><td>2</td><td>command flags ({@code NBD_CMD_FLAG_*})</td></tr>
 *   <tr><td>6</td><td>2</td><td>type ({@code NBD_CMD_*})</td></tr>
 *   <tr><td>8</td><td>8</td><td>handle (cookie), echoed in the reply</td></tr>
 *   <tr><td>16</td><td>8</td><td>offset, unsigned</td></tr>
 *   <tr><td>24</td><td>4</td><td>length, unsigned</td></tr>
 * </table>
 * {@code NBD_CMD_WRITE} is followed by <i>length</i> bytes of data.
 */
public final class Request {
    private int flags;
    private int type;
    private long handle;
    private long offset;
    private long length;

    /**
     * Decodes the header at {@code src}'s position (which must have
     * {@value NbdProtocol#REQUEST_SIZE} bytes remaining) and advances past it.
     *
     * @throws MalformedInputException when the magic is wrong: the stream has lost its
     *     framing and the connection must be dropped
     */
    public void decode(ByteBuffer src) throws MalformedInputException {
        int magic = src.getInt();
        MalformedInputException.verify(magic == NBD_REQUEST_MAGIC, "NBD request",
                "bad magic 0x" + Integer.toHexString(magic) + " (expected 0x25609513)");
        flags = Short.toUnsignedInt(src.getShort());
        type = Short.toUnsignedInt(src.getShort());
        handle = src.getLong();
        offset = src.getLong();
        length = Integer.toUnsignedLong(src.getInt());
    }

    /** Encodes a request header (used by clients and tests). */
    public static void encode(ByteBuffer dst, int flags, int type, long handle, long offset, int length) {
        dst.putInt(NBD_REQUEST_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(handle).putLong(offset).putInt(length);
    }

    /**
     * The one place requests are validated: returns {@link NbdProtocol#NBD_OK} when the
     * request may be executed against an export of {@code exportSize} bytes, else the NBD
     * error to reply with. Devices may then assume that reads lie inside the export.
     */
    public int check(long exportSize, boolean structuredReplies) {
        return switch (type) {
            case NBD_CMD_READ -> {
                int allowed = structuredReplies ? NBD_CMD_FLAG_DF : 0;
                if ((flags & ~allowed) != 0 || length == 0) {
                    yield NBD_EINVAL;
                }
                if (length > MAX_REQUEST_LENGTH) {
                    yield NBD_EOVERFLOW;
                }
                yield inRange(exportSize) ? NBD_OK : NBD_EINVAL;
            }
            case NBD_CMD_WRITE, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES -> NBD_EPERM;
            // Reserved fields of a flush MUST be zero; the export is read-only so there is
            // nothing to flush.
            case NBD_CMD_FLUSH -> flags == 0 && offset == 0 && length == 0 ? NBD_OK : NBD_EINVAL;
            case NBD_CMD_DISC -> NBD_OK;
            default -> NBD_EINVAL;
        };
    }

    private boolean inRange(long exportSize) {
        // offset is unsigned: a "negative" long is beyond any export.
        return offset >= 0 && offset <= exportSize && length <= exportSize - offset;
    }

    /** Bytes of payload that follow this header on the wire. */
    public long payloadLength() {
        return type == NBD_CMD_WRITE ? length : 0;
    }

    public int flags() {
        return flags;
    }

    public int type() {
        return type;
    }

    public long handle() {
        return handle;
    }

    public long offset() {
        return offset;
    }

    /** The length, unsigned (0 to 2^32-1). */
    public long length() {
        return length;
    }

    @Override
    public String toString() {
        return commandName(type) + " flags=0x" + Integer.toHexString(flags) + " offset="
                + Long.toUnsignedString(offset) + " length=" + length;
    }
}
