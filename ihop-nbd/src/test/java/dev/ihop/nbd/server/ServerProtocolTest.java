package dev.ihop.nbd.server;

import static dev.ihop.nbd.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.nbd.device.BlockDevice;
import dev.ihop.nbd.device.FileDevice;
import dev.ihop.nbd.testing.TestClient;
import dev.ihop.nbd.testing.TestClient.OptionReply;
import dev.ihop.nbd.testing.TestClient.Reply;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The server against a strict test client, over a Unix socket. */
class ServerProtocolTest {
    /** Not a multiple of 512, so the unaligned tail is exercised. */
    static final int SIZE = 3 * 1024 * 1024 + 1234;

    @TempDir
    Path dir;
    byte[] image;
    NbdServer server;
    FileDevice device;

    @BeforeEach
    void start() throws IOException {
        image = new byte[SIZE];
        new Random(42).nextBytes(image);
        Path file = dir.resolve("disk.img");
        Files.write(file, image);
        device = FileDevice.open(file);
        server = NbdServer.listenUnix(dir.resolve("nbd.sock"), List.of(new Export("disk.img", device),
                new Export("failing", new FailingDevice(image, 1 << 20, (1 << 20) + 10))));
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
        device.close();
    }

    TestClient client(boolean structured) throws IOException {
        TestClient c = new TestClient(server.address());
        c.connect("", structured);
        return c;
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void negotiatesSizeAndReadOnlyFlags(boolean structured) throws IOException {
        try (TestClient c = client(structured)) {
            assertEquals(SIZE, c.size);
            assertNotEquals(0, c.transmissionFlags & NBD_FLAG_HAS_FLAGS);
            assertNotEquals(0, c.transmissionFlags & NBD_FLAG_READ_ONLY);
            assertNotEquals(0, c.transmissionFlags & NBD_FLAG_SEND_FLUSH);
            assertNotEquals(0, c.transmissionFlags & NBD_FLAG_CAN_MULTI_CONN);
            assertEquals(structured, (c.transmissionFlags & NBD_FLAG_SEND_DF) != 0);
            c.disconnect();
            assertTrue(c.closedByServer());
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsAtOddOffsetsAndLengths(boolean structured) throws IOException {
        Random random = new Random(7);
        try (TestClient c = client(structured)) {
            for (int i = 0; i < 300; i++) {
                int length = 1 + random.nextInt(i % 10 == 0 ? 300_000 : 5000);
                long offset = random.nextLong(SIZE - length + 1);
                assertArrayEquals(Arrays.copyOfRange(image, (int) offset, (int) offset + length), c.read(offset, length),
                        "read " + length + " at " + offset);
            }
            // first byte, last byte, the unaligned tail
            assertArrayEquals(Arrays.copyOfRange(image, 0, 1), c.read(0, 1));
            assertArrayEquals(Arrays.copyOfRange(image, SIZE - 1, SIZE), c.read(SIZE - 1, 1));
            assertArrayEquals(Arrays.copyOfRange(image, SIZE - 1234, SIZE), c.read(SIZE - 1234, 1234));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsLargerThanTheBufferAreStreamed(boolean structured) throws IOException {
        try (TestClient c = client(structured)) {
            assertArrayEquals(image, c.read(0, SIZE));
            assertArrayEquals(Arrays.copyOfRange(image, 3, SIZE - 5), c.read(3, SIZE - 8));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void invalidRequestsGetErrorsAndTheConnectionGoesOn(boolean structured) throws IOException {
        try (TestClient c = client(structured)) {
            assertEquals(NBD_EINVAL, readError(c, 0, SIZE - 10, 11), "past the end");
            assertEquals(NBD_EINVAL, readError(c, 0, SIZE, 1), "at the end");
            assertEquals(NBD_EINVAL, readError(c, 0, Long.MIN_VALUE, 1), "offset beyond 2^63");
            assertEquals(NBD_EINVAL, readError(c, 0, -4096, 4096), "offset wrapping around");
            assertEquals(NBD_EINVAL, readError(c, 0, 0, 0), "zero length");
            assertEquals(NBD_EINVAL, readError(c, NBD_CMD_FLAG_FUA, 0, 10), "unadvertised flag");
            // Oversized: refused before anything is allocated (the length is close to 4 GiB).
            assertEquals(NBD_EOVERFLOW, readError(c, 0, 0, -1), "4 GiB read");
            assertEquals(NBD_EOVERFLOW, readError(c, 0, 0, MAX_REQUEST_LENGTH + 1), "just over the maximum");

            assertEquals(NBD_EPERM, writeError(c, NBD_CMD_WRITE, new byte[100_000]));
            assertEquals(NBD_EPERM, writeError(c, NBD_CMD_TRIM, null));
            assertEquals(NBD_EPERM, writeError(c, NBD_CMD_WRITE_ZEROES, null));
            assertEquals(NBD_EINVAL, writeError(c, 99, null), "unknown command");
            assertEquals(NBD_EINVAL, writeError(c, NBD_CMD_BLOCK_STATUS, null), "no meta context negotiated");
            c.sendRequest(0, NBD_CMD_FLUSH, 77, 0, 0);
            Reply flush = c.readNoDataReply();
            assertEquals(0, flush.error());
            assertEquals(77, flush.handle());
            assertArrayEquals(Arrays.copyOfRange(image, 100, 200), c.read(100, 100), "still serving");
            assertArrayEquals(image, Files.readAllBytes(dir.resolve("disk.img")), "the image is never written");
        }
    }

    private static int readError(TestClient c, int flags, long offset, int length) throws IOException {
        c.sendRequest(flags, NBD_CMD_READ, 5, offset, length);
        Reply r = c.structured ? c.readReadReply(Math.max(offset, 0), 0) : c.readNoDataReply();
        assertEquals(5, r.handle());
        assertNull(r.data());
        if (c.structured) {
            assertNotNull(r.message());
            assertFalse(r.message().isEmpty());
        }
        return r.error();
    }

    private static int writeError(TestClient c, int type, byte[] payload) throws IOException {
        c.sendRequest(0, type, 9, 4096, payload == null ? 4096 : payload.length);
        if (payload != null) {
            c.write(ByteBuffer.wrap(payload));
        }
        Reply r = c.readNoDataReply();
        assertEquals(9, r.handle());
        return r.error();
    }

    @Test
    void oversizedWriteIsRefusedAndTheConnectionDropped() throws IOException {
        try (TestClient c = client(false)) {
            c.sendRequest(0, NBD_CMD_WRITE, 1, 0, MAX_REQUEST_LENGTH + 1);
            assertEquals(NBD_EPERM, c.readNoDataReply().error());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (TestClient c = client(false)) {
            int n = 200;
            ByteBuffer batch = ByteBuffer.allocate(n * REQUEST_SIZE);
            for (int i = 0; i < n; i++) {
                dev.ihop.nbd.protocol.Request.encode(batch, 0, NBD_CMD_READ, i, i * 4093L, 4096);
            }
            c.write(batch.flip());
            for (int i = 0; i < n; i++) {
                Reply r = c.readReadReply(i * 4093L, 4096);
                assertEquals(i, r.handle());
                assertArrayEquals(Arrays.copyOfRange(image, i * 4093, i * 4093 + 4096), r.data());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFailingDeviceReadIsAnEioNotACrash(boolean structured) throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.connect("failing", structured);
            c.sendRequest(0, NBD_CMD_READ, 3, (1 << 20) - 100, 4096);
            Reply r = c.readReadReply((1 << 20) - 100, 4096);
            assertEquals(NBD_EIO, r.error());
            if (structured) {
                assertTrue(r.message().contains("chunk 0123abcd"), r.message());
            }
            assertArrayEquals(Arrays.copyOfRange(image, 0, 4096), c.read(0, 4096), "connection goes on");
        }
    }

    @Test
    void aFailureAfterStreamingBeganIsAnErrorChunkWithStructuredReplies() throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.connect("failing", true);
            c.sendRequest(0, NBD_CMD_READ, 3, 0, 3 << 20); // the failure is past the first buffer
            Reply r = c.readReadReply(0, 3 << 20);
            assertEquals(NBD_EIO, r.error());
            assertArrayEquals(Arrays.copyOfRange(image, 0, 4096), c.read(0, 4096), "connection goes on");
        }
    }

    @Test
    void aFailureAfterStreamingBeganDropsASimpleReplyConnection() throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.connect("failing", false);
            c.sendRequest(0, NBD_CMD_READ, 3, 0, 3 << 20);
            ByteBuffer h = c.readExactly(16);
            assertEquals(0, h.getInt(4), "header already promised data");
            assertThrows(IOException.class, () -> c.readExactly(3 << 20), "the protocol requires a hard disconnect");
        }
        try (TestClient other = client(false)) {
            assertArrayEquals(Arrays.copyOfRange(image, 0, 10), other.read(0, 10), "the server goes on");
        }
    }

    @Test
    void optionHaggling() throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.greet();
            c.sendOption(NBD_OPT_LIST, ByteBuffer.allocate(0));
            List<String> names = new ArrayList<>();
            OptionReply r;
            while ((r = c.readOptionReply()).type() == NBD_REP_SERVER) {
                ByteBuffer d = r.data();
                byte[] name = new byte[d.getInt()];
                d.get(name);
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            assertEquals(NBD_REP_ACK, r.type());
            assertEquals(List.of("disk.img", "failing"), names);

            c.sendOption(NBD_OPT_LIST, ByteBuffer.allocate(3));
            assertEquals(NBD_REP_ERR_INVALID, c.readOptionReply().type());
            c.sendOption(NBD_OPT_STARTTLS, ByteBuffer.allocate(0));
            assertEquals(NBD_REP_ERR_UNSUP, c.readOptionReply().type());
            c.sendOption(12345, ByteBuffer.allocate(10));
            assertEquals(NBD_REP_ERR_UNSUP, c.readOptionReply().type());
            c.sendOption(NBD_OPT_INFO, TestClient.infoData("nope"));
            OptionReply unknown = c.readOptionReply();
            assertEquals(NBD_REP_ERR_UNKNOWN, unknown.type());
            assertTrue(unknown.text().contains("nope"));
            c.sendOption(NBD_OPT_GO, ByteBuffer.allocate(5)); // truncated
            assertEquals(NBD_REP_ERR_INVALID, c.readOptionReply().type());
            c.sendOption(NBD_OPT_GO, ByteBuffer.allocate(8).putInt(1000).putInt(0).flip()); // name runs past the data
            assertEquals(NBD_REP_ERR_INVALID, c.readOptionReply().type());

            c.sendOption(NBD_OPT_INFO, TestClient.infoData("disk.img", NBD_INFO_NAME, NBD_INFO_BLOCK_SIZE));
            boolean sawExport = false;
            boolean sawName = false;
            boolean sawBlockSize = false;
            while ((r = c.readOptionReply()).type() == NBD_REP_INFO) {
                ByteBuffer d = r.data();
                switch (d.getShort()) {
                    case NBD_INFO_EXPORT -> {
                        sawExport = true;
                        assertEquals(SIZE, d.getLong());
                    }
                    case NBD_INFO_NAME -> {
                        sawName = true;
                        assertEquals("disk.img", StandardCharsets.UTF_8.decode(d).toString());
                    }
                    case NBD_INFO_BLOCK_SIZE -> {
                        sawBlockSize = true;
                        assertEquals(1, d.getInt());
                        assertEquals(4096, d.getInt());
                        assertEquals(MAX_REQUEST_LENGTH, d.getInt());
                    }
                    default -> fail("unexpected info type");
                }
            }
            assertEquals(NBD_REP_ACK, r.type());
            assertTrue(sawExport && sawName && sawBlockSize);

            // NBD_OPT_EXPORT_NAME ends haggling: size, flags, and no zeroes (NO_ZEROES negotiated).
            c.sendOption(NBD_OPT_EXPORT_NAME, ByteBuffer.wrap("disk.img".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer reply = c.readExactly(10);
            assertEquals(SIZE, reply.getLong());
            assertNotEquals(0, reply.getShort() & NBD_FLAG_READ_ONLY);
            c.structured = false;
            assertArrayEquals(Arrays.copyOfRange(image, 1, 2), c.read(1, 1));
        }
    }

    @Test
    void abortGetsAnAckAndAClose() throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.greet();
            c.sendOption(NBD_OPT_ABORT, ByteBuffer.allocate(0));
            assertEquals(NBD_REP_ACK, c.readOptionReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void unknownExportNameClosesTheSession() throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.greet();
            c.sendOption(NBD_OPT_EXPORT_NAME, ByteBuffer.wrap("nope".getBytes(StandardCharsets.UTF_8)));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void garbageHandshakesAreDroppedWithoutAffectingOthers() throws Exception {
        try (TestClient good = client(false)) {
            Random random = new Random(1);
            for (int i = 0; i < 20; i++) {
                try (TestClient bad = new TestClient(server.address())) {
                    bad.readExactly(18);
                    byte[] junk = new byte[1 + random.nextInt(200)];
                    random.nextBytes(junk);
                    if (i % 2 == 0) {
                        junk[0] = 0; // valid-looking client flags, then garbage options
                        junk = Arrays.copyOf(ByteBuffer.allocate(4).putInt(1).array(), 4 + junk.length);
                    }
                    bad.write(ByteBuffer.wrap(junk));
                    if (i % 2 == 1) {
                        assertTrue(bad.closedByServer(), "unknown client flags or bad magic close the connection");
                    }
                }
            }
            // A hostile option length (4 GiB) is refused without being allocated or read.
            try (TestClient bad = new TestClient(server.address())) {
                bad.greet();
                ByteBuffer h = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(NBD_OPT_GO).putInt(-1);
                bad.write(h.flip());
                assertTrue(bad.closedByServer());
            }
            // A transmission-phase request with a bad magic drops that connection only.
            try (TestClient bad = client(false)) {
                bad.write(ByteBuffer.wrap(new byte[REQUEST_SIZE]));
                assertTrue(bad.closedByServer());
            }
            assertArrayEquals(Arrays.copyOfRange(image, 500, 600), good.read(500, 100));
        }
    }

    @Test
    void sixteenConcurrentClients() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    int reads = 0;
                    try (TestClient c = client(seed % 2 == 0)) {
                        for (int i = 0; i < 200; i++) {
                            int length = 1 + random.nextInt(70_000);
                            long offset = random.nextLong(SIZE - length + 1);
                            assertArrayEquals(Arrays.copyOfRange(image, (int) offset, (int) offset + length), c.read(offset, length));
                            reads++;
                        }
                        c.disconnect();
                    }
                    return reads;
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(200, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void unixSocketIsOwnerOnlyAndRemovedOnClose() throws IOException {
        Path socket = dir.resolve("nbd.sock");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        try (var stream = Files.list(dir)) {
            assertEquals(List.of("disk.img", "nbd.sock"), stream.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no staging directory left behind");
        }
        assertThrows(java.nio.file.FileAlreadyExistsException.class,
                () -> NbdServer.listenUnix(socket, List.of(new Export("x", device))));
        server.close();
        assertFalse(Files.exists(socket));
    }

    @Test
    void tcpListener() throws IOException {
        try (NbdServer tcp = NbdServer.listenTcp(new java.net.InetSocketAddress("127.0.0.1", 0), List.of(new Export("disk.img", device)));
                TestClient c = new TestClient(tcp.address())) {
            c.connect("disk.img", true);
            assertArrayEquals(Arrays.copyOfRange(image, 7, 70_007), c.read(7, 70_000));
        }
    }

    /** Serves {@code bytes} but fails reads touching [failFrom, failTo), as a missing chunk file would. */
    static final class FailingDevice implements BlockDevice {
        private final byte[] bytes;
        private final long failFrom;
        private final long failTo;

        FailingDevice(byte[] bytes, long failFrom, long failTo) {
            this.bytes = bytes;
            this.failFrom = failFrom;
            this.failTo = failTo;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            if (offset < failTo && offset + dst.remaining() > failFrom) {
                throw new java.nio.file.NoSuchFileException("chunk 0123abcd (store/chunks/01/23abcd)");
            }
            dst.put(bytes, (int) offset, dst.remaining());
        }

        @Override
        public void close() {}
    }
}
