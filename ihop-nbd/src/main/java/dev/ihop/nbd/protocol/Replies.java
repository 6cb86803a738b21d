package dev.ihop.nbd.protocol;

import static dev.ihop.nbd.protocol.NbdProtocol.*;

import java.nio.ByteBuffer;

/**
 * Encoders of transmission-phase reply headers; payloads follow them on the wire.
 *
 * <p>Simple reply, {@value NbdProtocol#SIMPLE_REPLY_SIZE} bytes (big-endian):
 * <table>
 *   <caption>NBD simple reply</caption>
 *   <tr><th>Offset</th><th>Size</th><th>Content</th></tr>
 *   <tr><td>0</td><td>4</td><td>{@code NBD_SIMPLE_REPLY_MAGIC} 0x67446698</td></tr>
 *   <tr><td>4</td><td>4</td><td>error (0 or an {@code NBD_E*} value)</td></tr>
 *   <tr><td>8</td><td>8</td><td>handle of the request</td></tr>
 * </table>
 * A successful read is followed by exactly <i>length</i> bytes of data.
 *
 * <p>Structured reply chunk, {@value NbdProtocol#STRUCTURED_REPLY_SIZE} bytes:
 * <table>
 *   <caption>NBD structured reply chunk</caption>
 *   <tr><th>Offset</th><th>Size</th><th>Content</th></tr>
 *   <tr><td>0</td><td>4</td><td>{@code NBD_STRUCTURED_REPLY_MAGIC} 0x668e33ef</td></tr>
 *   <tr><td>4</td><td>2</td><td>flags ({@code NBD_REPLY_FLAG_DONE} on the last chunk)</td></tr>
 *   <tr><td>6</td><td>2</td><td>type ({@code NBD_REPLY_TYPE_*})</td></tr>
 *   <tr><td>8</td><td>8</td><td>handle of the request</td></tr>
 *   <tr><td>16</td><td>4</td><td>payload length</td></tr>
 * </table>
 * {@code NBD_REPLY_TYPE_OFFSET_DATA} payload: 8-byte offset, then data.
 * {@code NBD_REPLY_TYPE_ERROR} payload: 4-byte error, 2-byte message length, message.
 */
public final class Replies {
    private Replies() {}

    public static void simple(ByteBuffer dst, int error, long handle) {
        dst.putInt(NBD_SIMPLE_REPLY_MAGIC).putInt(error).putLong(handle);
    }

    public static void structured(ByteBuffer dst, int flags, int type, long handle, int payloadLength) {
        dst.putInt(NBD_STRUCTURED_REPLY_MAGIC).putShort((short) flags).putShort((short) type)
                .putLong(handle).putInt(payloadLength);
    }

    /** Header of an {@code NBD_REPLY_TYPE_OFFSET_DATA} chunk carrying {@code dataLength} bytes, including the offset. */
    public static void offsetData(ByteBuffer dst, boolean done, long handle, long offset, int dataLength) {
        structured(dst, done ? NBD_REPLY_FLAG_DONE : 0, NBD_REPLY_TYPE_OFFSET_DATA, handle, Math.addExact(8, dataLength));
        dst.putLong(offset);
    }

    /** A complete final {@code NBD_REPLY_TYPE_ERROR} chunk; the message is cut to fit {@code dst}. */
    public static void error(ByteBuffer dst, long handle, int error, String message) {
        byte[] text = message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int n = Math.min(text.length, Math.min(MAX_STRING_LENGTH, dst.remaining() - STRUCTURED_REPLY_SIZE - 6));
        structured(dst, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, handle, 6 + n);
        dst.putInt(error).putShort((short) n).put(text, 0, n);
    }

    /** A final {@code NBD_REPLY_TYPE_NONE} chunk. */
    public static void done(ByteBuffer dst, long handle) {
        structured(dst, NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_NONE, handle, 0);
    }
}
