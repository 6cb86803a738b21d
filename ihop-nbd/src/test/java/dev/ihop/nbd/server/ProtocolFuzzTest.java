package dev.ihop.nbd.server;

import static dev.ihop.nbd.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.nbd.device.BlockDevice;
import dev.ihop.nbd.protocol.Options;
import dev.ihop.nbd.protocol.Request;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random mutation of whole client streams (client flags, options, requests, write
 * payloads) fed to the real {@link Handshake} and {@link Transmission} through in-memory
 * channels that hand over bytes in random short pieces. Allowed outcomes only: the handshake
 * ends, aborts or throws an {@link IOException}; transmission returns (NBD_CMD_DISC or end of
 * stream between requests) or throws an {@link IOException}. Every byte the server writes
 * must parse as greeting, option replies and NBD replies, and the replies must be exactly
 * those an independent model of the protocol predicts for the bytes that followed the
 * handshake, with correct data for every successful read. The device rejects reads outside
 * the export, and no iteration may allocate more than {@link #ALLOCATION_LIMIT} bytes of heap.
 */
class ProtocolFuzzTest {
    static final int ITERATIONS = 20_000;
    static final long SEED = 0x1b0b_5eedL;
    /** Larger than the minimum data buffer, so reads are also streamed in pieces. */
    static final int SIZE = 300_001;
    static final int MAX_INPUT = 4096;
    /** Per iteration, server code only: options are at most 64 KiB, buffers are direct. */
    static final long ALLOCATION_LIMIT = 1 << 20;

    final byte[] image = new byte[SIZE];
    final Export export = new Export("disk", new ArrayDevice(image));
    final byte[] sink = new byte[48 << 20];
    final com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void mutatedClientStreamsGetOnlyDocumentedOutcomes() throws Exception {
        new Random(5).nextBytes(image);
        List<byte[]> seeds = seeds();
        Random random = new Random(SEED);
        int[] outcomes = new int[5];
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = mutate(seeds.get(random.nextInt(seeds.size())), random);
            try {
                outcomes[runOne(input, random.nextLong())]++;
            } catch (Throwable t) {
                throw new AssertionError("iteration " + i + " (seed " + SEED + "), input " + hex(input) + ": " + t, t);
            }
        }
        System.out.printf("ProtocolFuzzTest: %d streams: %d aborted or dropped in the handshake, %d ended by DISC or EOF,"
                + " %d dropped in transmission, %d handshakes completed by EXPORT_NAME%n",
                ITERATIONS, outcomes[0], outcomes[1], outcomes[2], outcomes[3]);
        assertTrue(outcomes[1] > ITERATIONS / 20 && outcomes[2] > ITERATIONS / 20 && outcomes[0] > ITERATIONS / 20,
                "the mutations reach every phase: " + Arrays.toString(outcomes));
    }

    /** Runs one stream; returns 0 (handshake ended the connection), 1 (clean end), or 2 (dropped in transmission). */
    private int runOne(byte[] input, long chunking) throws IOException {
        InputChannel in = new InputChannel(input, new Random(chunking));
        OutputChannel out = new OutputChannel(sink, new Random(~chunking));
        long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        Handshake.Result negotiated;
        try {
            negotiated = new Handshake(in, out, List.of(export)).negotiate();
        } catch (IOException e) {
            negotiated = null;
        }
        int handshakeEnd = out.length;
        int requestsStart = in.position;
        int outcome = 0;
        if (negotiated != null) {
            try {
                new Transmission(in, out, negotiated.export(), negotiated.structuredReplies(), "fuzz").run();
                outcome = 1;
            } catch (IOException e) {
                outcome = 2;
            }
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
        assertTrue(allocated < ALLOCATION_LIMIT, "server code allocated " + allocated + " bytes");

        ByteBuffer output = ByteBuffer.wrap(sink, 0, out.length);
        boolean exportNameReply = checkHandshakeOutput(output.limit(handshakeEnd), negotiated);
        if (negotiated != null) {
            output.limit(out.length);
            Model model = Model.of(input, requestsStart, negotiated.structuredReplies());
            assertEquals(model.dropped ? 2 : 1, outcome, "transmission outcome");
            for (Expected e : model.replies) {
                checkReply(output, e, negotiated.structuredReplies());
            }
            assertFalse(output.hasRemaining(), output.remaining() + " bytes beyond the expected replies");
        }
        return exportNameReply && outcome != 0 ? 3 : outcome;
    }

    // ---- seeds and mutations ----

    private List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        ByteBuffer requests = ByteBuffer.allocate(1024);
        Request.encode(requests, 0, NBD_CMD_READ, 1, 0, 4096);
        Request.encode(requests, 0, NBD_CMD_READ, 2, SIZE - 200_000, 200_000);
        Request.encode(requests, 0, NBD_CMD_FLUSH, 3, 0, 0);
        Request.encode(requests, 0, NBD_CMD_WRITE, 4, 512, 64);
        requests.put(new byte[64]);
        Request.encode(requests, 0, NBD_CMD_TRIM, 5, 0, 4096);
        Request.encode(requests, NBD_CMD_FLAG_DF, NBD_CMD_READ, 6, SIZE - 1, 1);
        Request.encode(requests, 0, NBD_CMD_DISC, 7, 0, 0);
        byte[] tail = Arrays.copyOf(requests.array(), requests.position());

        ByteBuffer go = ByteBuffer.allocate(2048).putInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        option(go, NBD_OPT_STRUCTURED_REPLY, new byte[0]);
        option(go, NBD_OPT_LIST, new byte[0]);
        option(go, NBD_OPT_INFO, info("disk", NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE));
        option(go, NBD_OPT_GO, info("", NBD_INFO_EXPORT));
        seeds.add(concat(go, tail));

        ByteBuffer simple = ByteBuffer.allocate(2048).putInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        option(simple, NBD_OPT_GO, info("disk"));
        seeds.add(concat(simple, tail));

        ByteBuffer exportName = ByteBuffer.allocate(2048).putInt(NBD_FLAG_C_FIXED_NEWSTYLE);
        option(exportName, 0x1234, new byte[7]);
        option(exportName, NBD_OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
        seeds.add(concat(exportName, tail));

        ByteBuffer abort = ByteBuffer.allocate(2048).putInt(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES);
        option(abort, NBD_OPT_INFO, info("nope"));
        option(abort, NBD_OPT_ABORT, new byte[0]);
        seeds.add(concat(abort, new byte[0]));
        return seeds;
    }

    private static void option(ByteBuffer dst, int option, byte[] data) {
        Options.OptionHeader.encode(dst, option, data.length);
        dst.put(data);
    }

    private static byte[] info(String name, int... types) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(6 + n.length + 2 * types.length).putInt(n.length).put(n).putShort((short) types.length);
        for (int t : types) {
            b.putShort((short) t);
        }
        return b.array();
    }

    private static byte[] concat(ByteBuffer head, byte[] tail) {
        return ByteBuffer.allocate(head.position() + tail.length).put(head.array(), 0, head.position()).put(tail).array();
    }

    /** Values at the edges of the fields' ranges and the protocol's magics, for 2-, 4- and 8-byte fields. */
    private static final long[] INTERESTING = {0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffffL, 0x80000000L,
        0xffffffffL, MAX_REQUEST_LENGTH, MAX_REQUEST_LENGTH + 1L, Options.MAX_OPTION_LENGTH, Options.MAX_OPTION_LENGTH + 1L,
        MAX_STRING_LENGTH, MAX_STRING_LENGTH + 1L, SIZE, SIZE - 1L, SIZE + 1L, Long.MAX_VALUE, Long.MIN_VALUE,
        NBD_REQUEST_MAGIC, IHAVEOPT, NBD_REP_MAGIC, NBD_CMD_DISC, NBD_OPT_GO, NBD_OPT_EXPORT_NAME, NBD_OPT_ABORT};

    private static byte[] mutate(byte[] seed, Random random) {
        byte[] b = seed.clone();
        int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            if (b.length == 0) {
                b = new byte[] {(byte) random.nextInt()};
            }
            int at = random.nextInt(b.length);
            switch (random.nextInt(8)) {
                case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
                case 1 -> b[at] = (byte) random.nextInt();
                case 2, 3 -> {
                    int width = new int[] {2, 4, 8}[random.nextInt(3)];
                    long value = INTERESTING[random.nextInt(INTERESTING.length)];
                    if (random.nextBoolean()) {
                        value += random.nextInt(5) - 2;
                    }
                    int start = Math.max(0, Math.min(at & ~(width - 1), b.length - width));
                    for (int k = 0; k < Math.min(width, b.length); k++) {
                        b[start + k] = (byte) (value >>> (8 * (width - 1 - k)));
                    }
                }
                case 4 -> b = Arrays.copyOf(b, at); // truncate
                case 5 -> { // delete a run
                    int n = Math.min(b.length - at, 1 + random.nextInt(32));
                    byte[] shorter = new byte[b.length - n];
                    System.arraycopy(b, 0, shorter, 0, at);
                    System.arraycopy(b, at + n, shorter, at, b.length - at - n);
                    b = shorter;
                }
                case 6 -> { // duplicate a run (repeats options and requests)
                    int n = Math.min(b.length - at, 1 + random.nextInt(64));
                    byte[] longer = new byte[Math.min(MAX_INPUT, b.length + n)];
                    System.arraycopy(b, 0, longer, 0, at + n);
                    System.arraycopy(b, at, longer, at + n, longer.length - at - n);
                    b = longer;
                }
                default -> { // insert random bytes
                    int n = 1 + random.nextInt(16);
                    byte[] longer = new byte[Math.min(MAX_INPUT, b.length + n)];
                    System.arraycopy(b, 0, longer, 0, at);
                    for (int k = at; k < Math.min(longer.length, at + n); k++) {
                        longer[k] = (byte) random.nextInt();
                    }
                    if (at + n < longer.length) {
                        System.arraycopy(b, at, longer, at + n, longer.length - at - n);
                    }
                    b = longer;
                }
            }
        }
        return b;
    }

    // ---- checking what the server wrote ----

    /** Greeting, then option replies, then (for NBD_OPT_EXPORT_NAME) the export reply; true in that last case. */
    private boolean checkHandshakeOutput(ByteBuffer out, Handshake.Result negotiated) {
        assertEquals(NBDMAGIC, out.getLong());
        assertEquals(IHAVEOPT, out.getLong());
        out.getShort();
        while (out.remaining() >= Options.OPTION_REPLY_SIZE && out.getLong(out.position()) == NBD_REP_MAGIC) {
            out.getLong();
            out.getInt();
            int type = out.getInt();
            int length = out.getInt();
            assertTrue(length >= 0 && length <= out.remaining(), "option reply length " + length);
            assertTrue(type == NBD_REP_ACK || type == NBD_REP_SERVER || type == NBD_REP_INFO || (type & NBD_REP_FLAG_ERROR) != 0,
                    "option reply type 0x" + Integer.toHexString(type));
            if ((type & NBD_REP_FLAG_ERROR) != 0) {
                assertTrue(length > 0, "errors carry a message");
            }
            out.position(out.position() + length);
        }
        if (!out.hasRemaining()) {
            return false;
        }
        // NBD_OPT_EXPORT_NAME: size, transmission flags, and 124 zeroes unless NO_ZEROES was agreed.
        assertNotNull(negotiated, "bytes after the option replies only when an export was chosen");
        assertTrue(out.remaining() == 10 || out.remaining() == 134, "export reply of " + out.remaining() + " bytes");
        assertEquals(SIZE, out.getLong());
        assertNotEquals(0, out.getShort() & NBD_FLAG_READ_ONLY);
        while (out.hasRemaining()) {
            assertEquals(0, out.get());
        }
        return true;
    }

    private void checkReply(ByteBuffer out, Expected e, boolean structured) {
        String what = e.toString();
        assertTrue(out.remaining() >= 4, "missing reply to " + what);
        int magic = out.getInt();
        if (magic == NBD_SIMPLE_REPLY_MAGIC) {
            assertFalse(structured && e.type == NBD_CMD_READ, "simple reply to a read after structured replies were agreed");
            assertEquals(e.error, out.getInt(), what);
            assertEquals(e.handle, out.getLong(), what);
            if (e.type == NBD_CMD_READ && e.error == NBD_OK) {
                checkData(out, e.offset, (int) e.length, what);
            }
            return;
        }
        assertEquals(NBD_STRUCTURED_REPLY_MAGIC, magic, what);
        assertTrue(structured, "structured reply without negotiation: " + what);
        long covered = 0;
        while (true) {
            int flags = out.getShort();
            int type = Short.toUnsignedInt(out.getShort());
            assertEquals(e.handle, out.getLong(), what);
            int length = out.getInt();
            switch (type) {
                case NBD_REPLY_TYPE_OFFSET_DATA -> {
                    assertEquals(NBD_OK, e.error, what);
                    long at = out.getLong();
                    assertEquals(e.offset + covered, at, what);
                    checkData(out, at, length - 8, what);
                    covered += length - 8;
                }
                case NBD_REPLY_TYPE_NONE -> assertEquals(0, length, what);
                case NBD_REPLY_TYPE_ERROR -> {
                    assertEquals(e.error, out.getInt(), what);
                    int messageLength = Short.toUnsignedInt(out.getShort());
                    assertEquals(length, 6 + messageLength, what);
                    out.position(out.position() + messageLength);
                }
                default -> fail("chunk type " + type + " in reply to " + what);
            }
            if ((flags & NBD_REPLY_FLAG_DONE) != 0) {
                break;
            }
            assertEquals(NBD_STRUCTURED_REPLY_MAGIC, out.getInt(), what);
        }
        if (e.error == NBD_OK && e.type == NBD_CMD_READ) {
            assertEquals(e.length, covered, what);
        }
    }

    private void checkData(ByteBuffer out, long offset, int length, String what) {
        assertTrue(length <= out.remaining(), "data cut short: " + what);
        assertEquals(-1, Arrays.mismatch(image, (int) offset, (int) offset + length, sink, out.position(), out.position() + length),
                "data of " + what);
        out.position(out.position() + length);
    }

    // ---- the model: what the protocol says the replies to a request stream are ----

    record Expected(int type, int flags, long handle, long offset, long length, int error) {
        @Override
        public String toString() {
            return commandName(type) + " flags=" + flags + " handle=" + handle + " offset=" + Long.toUnsignedString(offset)
                    + " length=" + length + " -> error " + error;
        }
    }

    /** Written from the protocol document, independently of {@link Request#check}. */
    record Model(List<Expected> replies, boolean dropped) {
        static Model of(byte[] input, int start, boolean structured) {
            List<Expected> replies = new ArrayList<>();
            ByteBuffer in = ByteBuffer.wrap(input, start, input.length - start);
            while (in.hasRemaining()) {
                if (in.remaining() < REQUEST_SIZE) {
                    return new Model(replies, true); // closed in the middle of a request
                }
                int magic = in.getInt();
                int flags = Short.toUnsignedInt(in.getShort());
                int type = Short.toUnsignedInt(in.getShort());
                long handle = in.getLong();
                long offset = in.getLong();
                long length = Integer.toUnsignedLong(in.getInt());
                if (magic != NBD_REQUEST_MAGIC) {
                    return new Model(replies, true); // framing lost
                }
                if (type == NBD_CMD_DISC) {
                    return new Model(replies, false);
                }
                int error = switch (type) {
                    case NBD_CMD_READ -> {
                        int allowedFlags = structured ? NBD_CMD_FLAG_DF : 0;
                        if ((flags & ~allowedFlags) != 0 || length == 0) {
                            yield NBD_EINVAL;
                        } else if (length > MAX_REQUEST_LENGTH) {
                            yield NBD_EOVERFLOW;
                        } else if (Long.compareUnsigned(offset, SIZE) > 0 || length > SIZE - offset) {
                            yield NBD_EINVAL;
                        }
                        yield NBD_OK;
                    }
                    case NBD_CMD_WRITE, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES -> NBD_EPERM; // read-only export
                    case NBD_CMD_FLUSH -> flags == 0 && offset == 0 && length == 0 ? NBD_OK : NBD_EINVAL;
                    default -> NBD_EINVAL;
                };
                Expected reply = new Expected(type, flags, handle, offset, length, error);
                if (type == NBD_CMD_WRITE) {
                    if (length > MAX_REQUEST_LENGTH) {
                        replies.add(reply); // refused, then dropped: the payload cannot be skipped
                        return new Model(replies, true);
                    }
                    if (length > in.remaining()) {
                        return new Model(replies, true); // closed in the middle of the payload
                    }
                    in.position(in.position() + (int) length);
                }
                replies.add(reply);
            }
            return new Model(replies, false);
        }
    }

    // ---- in-memory channels that move bytes in random pieces ----

    static final class InputChannel implements ReadableByteChannel {
        final byte[] bytes;
        final Random random;
        int position;

        InputChannel(byte[] bytes, Random random) {
            this.bytes = bytes;
            this.random = random;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (position == bytes.length) {
                return -1;
            }
            int n = Math.min(Math.min(dst.remaining(), bytes.length - position), random.nextBoolean() ? 1 + random.nextInt(40) : Integer.MAX_VALUE);
            dst.put(bytes, position, n);
            position += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    static final class OutputChannel implements GatheringByteChannel {
        final byte[] sink;
        final Random random;
        int length;

        OutputChannel(byte[] sink, Random random) {
            this.sink = sink;
            this.random = random;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = Math.min(src.remaining(), random.nextInt(4) == 0 ? 1 + random.nextInt(100) : Integer.MAX_VALUE);
            if (length + n > sink.length) {
                throw new AssertionError("the server wrote more than " + sink.length + " bytes for one stream");
            }
            src.get(sink, length, n);
            length += n;
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int count) throws IOException {
            long total = 0;
            for (int i = offset; i < offset + count; i++) {
                if (srcs[i].hasRemaining()) {
                    return write(srcs[i]); // one buffer at most: a short gathering write
                }
            }
            return total;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {}
    }

    /** The image in memory; a read outside it is a failure of the protocol layer's validation. */
    record ArrayDevice(byte[] bytes) implements BlockDevice {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
            if (offset < 0 || offset + dst.remaining() > bytes.length) {
                throw new AssertionError("device read outside the export: " + dst.remaining() + " bytes at " + offset);
            }
            dst.put(bytes, (int) offset, dst.remaining());
        }

        @Override
        public void close() {}
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }
}
