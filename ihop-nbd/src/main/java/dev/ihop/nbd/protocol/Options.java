package dev.ihop.nbd.protocol;

import static dev.ihop.nbd.protocol.NbdProtocol.*;

import dev.ihop.format.MalformedInputException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Codecs of the fixed-newstyle handshake (option haggling). No I/O here.
 *
 * <p>Server greeting, 18 bytes: {@code NBDMAGIC} (8), {@code IHAVEOPT} (8), handshake flags (2).
 * Client flags: 4 bytes.
 *
 * <p>Option request header, {@value #OPTION_HEADER_SIZE} bytes, followed by <i>length</i> bytes of data:
 * <table>
 *   <caption>NBD option request</caption>
 *   <tr><th>Offset</th><th>Size</th><th>Content</th></tr>
 *   <tr><td>0</td><td>8</td><td>{@code IHAVEOPT}</td></tr>
 *   <tr><td>8</td><td>4</td><td>option ({@code NBD_OPT_*})</td></tr>
 *   <tr><td>12</td><td>4</td><td>length of option data, unsigned</td></tr>
 * </table>
 *
 * <p>Option reply header, {@value #OPTION_REPLY_SIZE} bytes, followed by <i>length</i> bytes of data:
 * <table>
 *   <caption>NBD option reply</caption>
 *   <tr><th>Offset</th><th>Size</th><th>Content</th></tr>
 *   <tr><td>0</td><td>8</td><td>{@code NBD_REP_MAGIC} 0x3e889045565a9</td></tr>
 *   <tr><td>8</td><td>4</td><td>option being answered</td></tr>
 *   <tr><td>12</td><td>4</td><td>reply type ({@code NBD_REP_*})</td></tr>
 *   <tr><td>16</td><td>4</td><td>length of reply data</td></tr>
 * </table>
 *
 * <p>{@code NBD_OPT_INFO} / {@code NBD_OPT_GO} data:
 * <table>
 *   <caption>NBD_OPT_INFO / NBD_OPT_GO data</caption>
 *   <tr><th>Offset</th><th>Size</th><th>Content</th></tr>
 *   <tr><td>0</td><td>4</td><td>name length <i>n</i></td></tr>
 *   <tr><td>4</td><td><i>n</i></td><td>export name, UTF-8</td></tr>
 *   <tr><td>4+<i>n</i></td><td>2</td><td>number of information requests <i>k</i></td></tr>
 *   <tr><td>6+<i>n</i></td><td>2<i>k</i></td><td>requested {@code NBD_INFO_*} types</td></tr>
 * </table>
 *
 * <p>{@code NBD_REP_INFO} payloads: {@code NBD_INFO_EXPORT}: type (2), size (8), transmission
 * flags (2). {@code NBD_INFO_NAME}: type (2), name. {@code NBD_INFO_BLOCK_SIZE}: type (2),
 * minimum (4), preferred (4), maximum payload (4).
 * {@code NBD_REP_SERVER} payload: name length (4), name.
 */
public final class Options {
    private Options() {}

    public static final int GREETING_SIZE = 18;
    public static final int OPTION_HEADER_SIZE = 16;
    public static final int OPTION_REPLY_SIZE = 20;
    /**
     * Longest option data accepted. The longest meaningful option is an INFO/GO with a
     * 4096-byte name; anything much longer is refused by dropping the connection.
     */
    public static final int MAX_OPTION_LENGTH = 64 * 1024;

    public static void greeting(ByteBuffer dst, int handshakeFlags) {
        dst.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) handshakeFlags);
    }

    /** Option request header, decoded from {@value #OPTION_HEADER_SIZE} bytes. */
    public record OptionHeader(int option, long length) {
        public static OptionHeader decode(ByteBuffer src) throws MalformedInputException {
            long magic = src.getLong();
            MalformedInputException.verify(magic == IHAVEOPT, "NBD option",
                    "bad magic 0x" + Long.toHexString(magic) + " (expected IHAVEOPT)");
            return new OptionHeader(src.getInt(), Integer.toUnsignedLong(src.getInt()));
        }

        public static void encode(ByteBuffer dst, int option, int length) {
            dst.putLong(IHAVEOPT).putInt(option).putInt(length);
        }
    }

    public static void replyHeader(ByteBuffer dst, int option, int replyType, int length) {
        dst.putLong(NBD_REP_MAGIC).putInt(option).putInt(replyType).putInt(length);
    }

    /** Data of {@code NBD_OPT_INFO} / {@code NBD_OPT_GO}. */
    public record InfoRequest(String exportName, short[] infoTypes) {
        public static InfoRequest decode(ByteBuffer data) throws MalformedInputException {
            MalformedInputException.verify(data.remaining() >= 6, "NBD_OPT_GO data", "shorter than 6 bytes");
            long nameLength = Integer.toUnsignedLong(data.getInt());
            MalformedInputException.verify(nameLength <= MAX_STRING_LENGTH, "NBD_OPT_GO data",
                    "export name length " + nameLength + " exceeds " + MAX_STRING_LENGTH);
            MalformedInputException.verify(nameLength + 2 <= data.remaining(), "NBD_OPT_GO data",
                    "export name length " + nameLength + " runs past the option data");
            String name = utf8(data, (int) nameLength, "export name");
            int count = Short.toUnsignedInt(data.getShort());
            MalformedInputException.verify(data.remaining() == 2 * count, "NBD_OPT_GO data",
                    count + " information requests need " + 2 * count + " bytes, " + data.remaining() + " remain");
            short[] types = new short[count];
            for (int i = 0; i < count; i++) {
                types[i] = data.getShort();
            }
            return new InfoRequest(name, types);
        }

        public boolean requests(int infoType) {
            for (short t : infoTypes) {
                if (Short.toUnsignedInt(t) == infoType) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Decodes {@code length} bytes of strict UTF-8 without NUL, as the protocol requires of strings. */
    public static String utf8(ByteBuffer src, int length, String what) throws MalformedInputException {
        ByteBuffer slice = src.slice(src.position(), length);
        src.position(src.position() + length);
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedInputException(what + " is not valid UTF-8", e);
        }
        MalformedInputException.verify(s.indexOf('\0') < 0, what, "contains NUL");
        return s;
    }
}
