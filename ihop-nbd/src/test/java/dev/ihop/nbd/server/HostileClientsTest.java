package dev.ihop.nbd.server;

import static dev.ihop.nbd.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.nbd.device.FileDevice;
import dev.ihop.nbd.protocol.Options;
import dev.ihop.nbd.protocol.Request;
import dev.ihop.nbd.testing.ForkedServer;
import dev.ihop.nbd.testing.TestClient;
import dev.ihop.nbd.testing.TestClient.Reply;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clients that break the protocol, stall, or flood the server. Each attack must end in a
 * correct answer or in that client being dropped, while a well-behaved client connected
 * before the attack keeps reading correct data, and (in the forked small-heap server)
 * memory stays bounded. {@link ServerProtocolTest} covers the protocol's ordinary error
 * paths; this class covers what an attacker would do.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileClientsTest {
    static final int SIZE = 4 * 1024 * 1024 + 321;
    /** Longer than the server's largest data buffer, so a stalled reply is streamed. */
    static final int STALLED_READ = 4 * 1024 * 1024;

    @TempDir
    Path dir;
    byte[] image;
    Path imageFile;
    FileDevice device;
    NbdServer server;
    TestClient good;
    final Random random = new Random(2024);

    @BeforeEach
    void start() throws IOException {
        image = new byte[SIZE];
        new Random(17).nextBytes(image);
        imageFile = Files.write(dir.resolve("disk.img"), image);
        device = FileDevice.open(imageFile);
        server = NbdServer.listenUnix(dir.resolve("nbd.sock"), List.of(new Export("disk.img", device)));
        good = new TestClient(server.address());
        good.connect("disk.img", true);
    }

    @AfterEach
    void stop() throws IOException {
        good.close();
        server.close();
        device.close();
    }

    /** The well-behaved client still reads correct data (a random range, so each check differs). */
    private void goodClientStillServed() throws IOException {
        assertStillServes(good, image, random);
    }

    static void assertStillServes(TestClient client, byte[] image, Random random) throws IOException {
        int length = 1 + random.nextInt(200_000);
        long offset = random.nextLong(image.length - length + 1);
        assertArrayEquals(Arrays.copyOfRange(image, (int) offset, (int) offset + length), client.read(offset, length),
                "a well-behaved client reads " + length + " bytes at " + offset);
    }

    private TestClient greeted() throws IOException {
        TestClient c = new TestClient(server.address());
        c.greet();
        return c;
    }

    private static ByteBuffer optionHeader(long magic, int option, int length) {
        return ByteBuffer.allocate(Options.OPTION_HEADER_SIZE).putLong(magic).putInt(option).putInt(length).flip();
    }

    // ---- garbage and wrong magics, stage by stage ----

    @Test
    void otherProtocolsSpeakingFirstAreDropped() throws IOException {
        List<byte[]> openers = List.of(
                "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII),
                // a TLS 1.2 ClientHello record header and the start of its body
                new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xf1, 0x01, 0x00, 0x00, (byte) 0xed, 0x03, 0x03},
                // oldstyle/newstyle confusion: a client that echoes the server's magics back
                ByteBuffer.allocate(16).putLong(NBDMAGIC).putLong(IHAVEOPT).array());
        for (byte[] opener : openers) {
            try (TestClient bad = new TestClient(server.address())) {
                bad.write(ByteBuffer.wrap(opener)); // before even reading the greeting
                ByteBuffer greeting = bad.readExactly(Options.GREETING_SIZE);
                assertEquals(NBDMAGIC, greeting.getLong());
                assertTrue(bad.closedByServer(), "dropped after " + new String(opener, StandardCharsets.ISO_8859_1));
            }
            goodClientStillServed();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x4, 0x80000000, 0xffffffff, 0x49484156})
    void unknownClientFlagBitsAreDropped(int flags) throws IOException {
        try (TestClient bad = new TestClient(server.address())) {
            bad.readExactly(Options.GREETING_SIZE);
            bad.write(ByteBuffer.allocate(4).putInt(flags).flip());
            assertTrue(bad.closedByServer());
        }
        goodClientStillServed();
    }

    @Test
    void wrongOptionMagicIsDroppedEvenAfterValidOptions() throws IOException {
        long[] magics = {0, IHAVEOPT ^ 1, NBD_REP_MAGIC, NBDMAGIC, Long.reverseBytes(IHAVEOPT)};
        for (long magic : magics) {
            try (TestClient bad = greeted()) {
                bad.sendOption(NBD_OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
                assertEquals(NBD_REP_ACK, bad.readOptionReply().type());
                bad.write(optionHeader(magic, NBD_OPT_GO, 0));
                assertTrue(bad.closedByServer(), "magic 0x" + Long.toHexString(magic));
            }
            goodClientStillServed();
        }
    }

    @Test
    void wrongRequestMagicInTheMiddleOfAPipelineDropsTheConnectionAfterTheGoodRequests() throws IOException {
        int[] magics = {0, NBD_SIMPLE_REPLY_MAGIC, NBD_STRUCTURED_REPLY_MAGIC, Integer.reverseBytes(NBD_REQUEST_MAGIC), -1};
        for (int magic : magics) {
            try (TestClient bad = new TestClient(server.address())) {
                bad.connect("disk.img", false);
                ByteBuffer batch = ByteBuffer.allocate(4 * REQUEST_SIZE);
                Request.encode(batch, 0, NBD_CMD_READ, 1, 0, 1000);
                Request.encode(batch, 0, NBD_CMD_READ, 2, 5000, 1000);
                batch.putInt(magic).putShort((short) 0).putShort((short) NBD_CMD_READ).putLong(3).putLong(0).putInt(1000);
                Request.encode(batch, 0, NBD_CMD_READ, 4, 0, 1000); // never answered: framing is lost
                bad.write(batch.flip());
                Reply first = bad.readReadReply(0, 1000);
                assertEquals(1, first.handle());
                assertArrayEquals(Arrays.copyOfRange(image, 0, 1000), first.data());
                Reply second = bad.readReadReply(5000, 1000);
                assertEquals(2, second.handle());
                assertArrayEquals(Arrays.copyOfRange(image, 5000, 6000), second.data());
                assertTrue(bad.closedByServer(), "magic 0x" + Integer.toHexString(magic));
            }
            goodClientStillServed();
        }
    }

    // ---- huge lengths ----

    @ParameterizedTest
    @ValueSource(ints = {Options.MAX_OPTION_LENGTH + 1, Integer.MAX_VALUE, Integer.MIN_VALUE, -1})
    void hugeOptionLengthsAreDroppedWithoutReadingTheData(int length) throws IOException {
        for (int option : new int[] {NBD_OPT_EXPORT_NAME, NBD_OPT_GO, NBD_OPT_LIST, 0x7777}) {
            try (TestClient bad = greeted()) {
                bad.write(optionHeader(IHAVEOPT, option, length));
                try {
                    bad.write(ByteBuffer.allocate(1000)); // the start of "data" the server must not wait for
                } catch (IOException e) {
                    // already dropped
                }
                assertTrue(bad.closedByServer(), "option " + option + " with " + Integer.toUnsignedString(length) + " bytes");
            }
        }
        goodClientStillServed();
    }

    @Test
    void optionsOfTheMaximumLengthAreReadAndAnswered() throws IOException {
        try (TestClient c = greeted()) {
            ByteBuffer data = ByteBuffer.allocate(Options.MAX_OPTION_LENGTH);
            data.putInt(Options.MAX_OPTION_LENGTH - 6).position(0);
            c.sendOption(NBD_OPT_GO, data); // a name longer than the protocol's 4096 bytes
            assertEquals(NBD_REP_ERR_INVALID, c.readOptionReply().type());
            c.sendOption(0x7777, ByteBuffer.allocate(Options.MAX_OPTION_LENGTH));
            assertEquals(NBD_REP_ERR_UNSUP, c.readOptionReply().type());
            c.sendOption(NBD_OPT_INFO, ByteBuffer.allocate(6 + 2 * 30_000).putInt(0).putShort((short) 30_000).position(0));
            TestClient.OptionReply r;
            while ((r = c.readOptionReply()).type() == NBD_REP_INFO) {
                assertTrue(r.data().remaining() >= 2);
            }
            assertEquals(NBD_REP_ACK, r.type(), "30000 (zero) information requests are fine");
            // An export name that is not UTF-8, and one with a NUL.
            c.sendOption(NBD_OPT_GO, ByteBuffer.allocate(9).putInt(3).put(new byte[] {(byte) 0xc3, 0x28, 0x41}).putShort((short) 0).flip());
            assertEquals(NBD_REP_ERR_INVALID, c.readOptionReply().type());
            c.sendOption(NBD_OPT_GO, ByteBuffer.allocate(9).putInt(3).put(new byte[] {'a', 0, 'b'}).putShort((short) 0).flip());
            assertEquals(NBD_REP_ERR_INVALID, c.readOptionReply().type());
            c.go("disk.img", false);
            assertArrayEquals(Arrays.copyOfRange(image, 99, 199), c.read(99, 100), "haggling went on");
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void hugeRequestLengthsAreRefusedBeforeAnythingIsAllocated(boolean structured) throws IOException {
        long[] lengths = {0xffffffffL, 0x80000000L, 0x7fffffffL, MAX_REQUEST_LENGTH + 1L};
        try (TestClient c = new TestClient(server.address())) {
            c.connect("disk.img", structured);
            for (long length : lengths) {
                for (int type : new int[] {NBD_CMD_READ, NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES, NBD_CMD_CACHE, NBD_CMD_BLOCK_STATUS, 0xffff}) {
                    c.sendRequest(0, type, length, 0, (int) length);
                    Reply r = c.readNoDataReply();
                    assertEquals(length, r.handle());
                    int expected = switch (type) {
                        case NBD_CMD_READ -> NBD_EOVERFLOW;
                        case NBD_CMD_TRIM, NBD_CMD_WRITE_ZEROES -> NBD_EPERM;
                        default -> NBD_EINVAL;
                    };
                    assertEquals(expected, r.error(), commandName(type) + " of " + length + " bytes");
                }
                // An oversized flush is invalid (its length must be 0), not a reason to read anything.
                c.sendRequest(0, NBD_CMD_FLUSH, 8, 0, (int) length);
                assertEquals(NBD_EINVAL, c.readNoDataReply().error());
            }
            assertArrayEquals(Arrays.copyOfRange(image, 0, 4096), c.read(0, 4096), "the connection goes on");
        }
        for (long length : lengths) {
            // A write's payload follows its header: a huge one cannot be skipped, so the connection is dropped.
            try (TestClient c = new TestClient(server.address())) {
                c.connect("disk.img", structured);
                c.sendRequest(0, NBD_CMD_WRITE, 1, 0, (int) length);
                try {
                    c.write(ByteBuffer.allocate(64 * 1024)); // some of the payload
                } catch (IOException e) {
                    // the server may have dropped us already; its reply is still there to read
                }
                assertEquals(NBD_EPERM, c.readNoDataReply().error());
                assertTrue(c.closedByServer(), "write of " + length + " bytes");
            }
        }
        goodClientStillServed();
    }

    // ---- NBD_CMD_DISC and half-closed sockets ----

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void requestsAfterDiscAreNeverAnsweredButEarlierRepliesArriveWhole(boolean tcp) throws Exception {
        try (NbdServer tcpServer = tcp ? NbdServer.listenTcp(new InetSocketAddress("127.0.0.1", 0), List.of(new Export("disk.img", device))) : null) {
            SocketAddress address = tcp ? tcpServer.address() : server.address();
            for (int round = 0; round < 20; round++) {
                try (TestClient c = new TestClient(address)) {
                    c.connect("disk.img", round % 2 == 0);
                    int length = 1 << 20; // larger than the socket buffers: still being sent when DISC is read
                    ByteBuffer batch = ByteBuffer.allocate(3 * REQUEST_SIZE);
                    Request.encode(batch, 0, NBD_CMD_READ, 1, 0, length);
                    Request.encode(batch, 0, NBD_CMD_READ, 2, length, length);
                    Request.encode(batch, 0, NBD_CMD_DISC, 3, 0, 0);
                    ByteBuffer after = ByteBuffer.allocate(2 * REQUEST_SIZE + 100);
                    Request.encode(after, 0, NBD_CMD_READ, 4, 0, 100);
                    Request.encode(after, 0, NBD_CMD_WRITE, 5, 0, 100);
                    after.put(new byte[100]).flip();
                    if (round % 2 == 0) {
                        c.write(ByteBuffer.allocate(batch.capacity() + after.capacity()).put(batch.flip()).put(after).flip());
                    } else {
                        // After the server has read DISC: these bytes are still unread when it closes.
                        c.write(batch.flip());
                        Thread.sleep(20);
                        c.write(after);
                    }
                    Reply first = c.readReadReply(0, length);
                    assertEquals(1, first.handle());
                    assertArrayEquals(Arrays.copyOfRange(image, 0, length), first.data());
                    Reply second = c.readReadReply(length, length);
                    assertEquals(2, second.handle());
                    assertArrayEquals(Arrays.copyOfRange(image, length, 2 * length), second.data());
                    assertTrue(c.closedByServer(), "nothing after the replies to the requests before DISC");
                }
            }
        }
        goodClientStillServed();
    }

    @Test
    void halfCloseMidHandshakeDropsTheClient() throws IOException {
        // Inside the client flags, inside an option header, inside option data.
        List<byte[]> partials = List.of(
                new byte[] {0, 0},
                ByteBuffer.allocate(4 + 10).putInt(NBD_FLAG_C_FIXED_NEWSTYLE).putLong(IHAVEOPT).putShort((short) 0).array(),
                ByteBuffer.allocate(4 + 16 + 5).putInt(NBD_FLAG_C_FIXED_NEWSTYLE).putLong(IHAVEOPT).putInt(NBD_OPT_GO).putInt(100).array());
        for (byte[] partial : partials) {
            try (TestClient bad = new TestClient(server.address())) {
                bad.readExactly(Options.GREETING_SIZE);
                bad.write(ByteBuffer.wrap(partial));
                bad.channel.shutdownOutput();
                assertTrue(bad.closedByServer(), partial.length + " bytes then a half-close");
            }
            goodClientStillServed();
        }
        // A complete option then a half-close: it is answered, then the connection ends.
        try (TestClient c = greeted()) {
            c.sendOption(NBD_OPT_LIST, ByteBuffer.allocate(0));
            c.channel.shutdownOutput();
            assertEquals(NBD_REP_SERVER, c.readOptionReply().type());
            assertEquals(NBD_REP_ACK, c.readOptionReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void halfCloseMidRequestDropsTheClient() throws IOException {
        for (int cut : new int[] {1, 4, 27}) {
            try (TestClient bad = new TestClient(server.address())) {
                bad.connect("disk.img", false);
                ByteBuffer header = ByteBuffer.allocate(REQUEST_SIZE);
                Request.encode(header, 0, NBD_CMD_READ, 1, 0, 512);
                bad.write(header.flip().limit(cut));
                bad.channel.shutdownOutput();
                assertTrue(bad.closedByServer(), "request cut after " + cut + " bytes");
            }
        }
        try (TestClient bad = new TestClient(server.address())) {
            bad.connect("disk.img", false);
            bad.sendRequest(0, NBD_CMD_WRITE, 1, 0, 4096);
            bad.write(ByteBuffer.allocate(100)); // the write's payload, cut short
            bad.channel.shutdownOutput();
            assertTrue(bad.closedByServer(), "write payload cut short");
        }
        goodClientStillServed();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void halfCloseAfterPipelinedRequestsStillGetsEveryReply(boolean structured) throws IOException {
        try (TestClient c = new TestClient(server.address())) {
            c.connect("disk.img", structured);
            int n = 64;
            ByteBuffer batch = ByteBuffer.allocate(n * REQUEST_SIZE);
            for (int i = 0; i < n; i++) {
                Request.encode(batch, 0, NBD_CMD_READ, i, i * 60_001L, 60_000);
            }
            c.write(batch.flip());
            c.channel.shutdownOutput(); // "no more requests", without NBD_CMD_DISC
            for (int i = 0; i < n; i++) {
                Reply r = c.readReadReply(i * 60_001L, 60_000);
                assertEquals(i, r.handle());
                assertArrayEquals(Arrays.copyOfRange(image, i * 60_001, i * 60_001 + 60_000), r.data());
            }
            assertTrue(c.closedByServer());
        }
        goodClientStillServed();
    }

    // ---- stalled readers and connection floods ----

    /** A client that pipelines {@code count} 4 MiB reads and never reads a reply. */
    static TestClient stalledReader(SocketAddress address, int count) throws IOException {
        TestClient c = new TestClient(address);
        c.connect("", false);
        ByteBuffer batch = ByteBuffer.allocate(count * REQUEST_SIZE);
        for (int i = 0; i < count; i++) {
            Request.encode(batch, 0, NBD_CMD_READ, i, i % 2, STALLED_READ);
        }
        // The server stops reading requests once its replies stop draining, so this write
        // may block too: send from a non-blocking channel and give up on the rest.
        c.channel.configureBlocking(false);
        c.channel.write(batch.flip());
        c.channel.configureBlocking(true);
        return c;
    }

    @Test
    void clientsThatNeverReadRepliesDoNotBlockOthers() throws IOException {
        List<TestClient> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 16; i++) {
                stalled.add(stalledReader(server.address(), 2000));
                goodClientStillServed();
            }
            for (int i = 0; i < 20; i++) {
                goodClientStillServed();
            }
            try (TestClient late = new TestClient(server.address())) {
                late.connect("disk.img", false);
                assertStillServes(late, image, random);
            }
        } finally {
            for (TestClient c : stalled) {
                c.close();
            }
        }
        goodClientStillServed();
    }

    @Test
    void twoHundredConnectionsOpenedAndDroppedOneAfterAnother() throws IOException {
        for (int i = 0; i < 200; i++) {
            try (TestClient c = new TestClient(server.address())) {
                switch (i % 4) {
                    case 0 -> {} // closed at once, perhaps before the greeting is written
                    case 1 -> c.readExactly(Options.GREETING_SIZE);
                    case 2 -> c.greet(); // dropped while the server waits for an option
                    default -> {
                        c.connect("disk.img", i % 8 == 3);
                        c.sendRequest(0, NBD_CMD_READ, 1, 0, STALLED_READ); // dropped mid-reply
                    }
                }
            }
            if (i % 50 == 49) {
                goodClientStillServed();
            }
        }
        assertConnectionsDrainTo(1);
        goodClientStillServed();
    }

    @Test
    void burstsBeyondTheConnectionLimitAreRefusedAndTheSlotsComeBack() throws Exception {
        for (int burst = 0; burst < 2; burst++) {
            List<TestClient> clients = new ArrayList<>();
            int greeted = 0;
            try {
                for (int i = 0; i < 200; i++) {
                    clients.add(new TestClient(server.address()));
                }
                for (TestClient c : clients) {
                    try {
                        c.readExactly(Options.GREETING_SIZE);
                        greeted++;
                    } catch (IOException e) {
                        // refused: closed without a greeting
                    }
                }
                assertEquals(NbdServer.MAX_CONNECTIONS - 1, greeted, "the good client holds one of the slots");
                goodClientStillServed();
            } finally {
                for (TestClient c : clients) {
                    c.close();
                }
            }
            assertConnectionsDrainTo(1);
            goodClientStillServed();
        }
        // Every slot is free again: a full house of well-behaved clients is served.
        List<TestClient> full = new ArrayList<>();
        try {
            for (int i = 0; i < NbdServer.MAX_CONNECTIONS - 1; i++) {
                TestClient c = new TestClient(server.address());
                full.add(c);
                c.connect("disk.img", i % 2 == 0);
            }
            for (TestClient c : full) {
                assertStillServes(c, image, random);
            }
        } finally {
            for (TestClient c : full) {
                c.close();
            }
        }
    }

    /**
     * A connected client, retried while the server refuses it: the slots of clients that just
     * closed come back once the server has noticed, not at once.
     */
    static TestClient connectOnceSlotsAreFree(SocketAddress address, boolean structured) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            TestClient c = new TestClient(address);
            try {
                c.connect("", structured);
                return c;
            } catch (IOException e) {
                c.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
    }

    private void assertConnectionsDrainTo(int expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.openConnections() != expected && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        assertEquals(expected, server.openConnections(), "dropped clients free their connection slots");
    }

    // ---- the same attacks against a server with a 64 MiB heap, in its own JVM ----

    @Test
    void aSmallHeapServerSurvivesStalledReadersAndFloodsWithBoundedMemory() throws Exception {
        try (ForkedServer forked = ForkedServer.start(dir, List.of("-Xmx64m", "-Xss256k"), imageFile)) {
            SocketAddress address = UnixDomainSocketAddress.of(forked.socket);
            try (TestClient witness = new TestClient(address)) {
                witness.connect("disk.img", true);
                long[] idle = forked.memory();

                // Every other slot held by a client that pipelines maximum-size reads and never reads.
                List<TestClient> stalled = new ArrayList<>();
                try {
                    for (int i = 0; i < NbdServer.MAX_CONNECTIONS - 2; i++) {
                        stalled.add(stalledReader(address, 200));
                    }
                    // Wait until every stalled connection's server thread is blocked writing a reply.
                    Thread.sleep(2000);
                    assertStillServes(witness, image, random);
                    long[] attacked = forked.memory();
                    System.out.printf("HostileClientsTest: forked -Xmx64m server: heap %.1f MiB, direct buffers %.1f MiB idle;"
                            + " heap %.1f MiB, direct buffers %.1f MiB with %d stalled readers; peak RSS %.1f MiB%n",
                            idle[0] / 1048576.0, idle[1] / 1048576.0, attacked[0] / 1048576.0, attacked[1] / 1048576.0,
                            stalled.size(), forked.peakRss() / 1048576.0);
                    assertTrue(attacked[0] < 24L << 20, () -> "heap used with stalled readers: " + attacked[0] + "\n" + forked.logText());
                    assertTrue(attacked[1] < 48L << 20, () -> "direct buffers with stalled readers: " + attacked[1] + "\n" + forked.logText());
                } finally {
                    for (TestClient c : stalled) {
                        c.close();
                    }
                }
                assertStillServes(witness, image, random);

                // Floods: 200 connections at once, three times, half of them dropped mid-handshake.
                for (int round = 0; round < 3; round++) {
                    List<TestClient> burst = new ArrayList<>();
                    try {
                        for (int i = 0; i < 200; i++) {
                            burst.add(new TestClient(address));
                        }
                        for (int i = 0; i < burst.size(); i += 2) {
                            try {
                                burst.get(i).greet();
                            } catch (IOException e) {
                                // refused
                            }
                        }
                        assertStillServes(witness, image, random);
                    } finally {
                        for (TestClient c : burst) {
                            c.close();
                        }
                    }
                }
                // Then serving at full speed: 16 clients reading concurrently.
                List<TestClient> readers = new ArrayList<>();
                try {
                    for (int i = 0; i < 16; i++) {
                        readers.add(connectOnceSlotsAreFree(address, i % 2 == 0));
                    }
                    for (TestClient c : readers) {
                        assertArrayEquals(Arrays.copyOfRange(image, 0, 1 << 20), c.read(0, 1 << 20));
                    }
                } finally {
                    for (TestClient c : readers) {
                        c.close();
                    }
                }
                assertStillServes(witness, image, random);
                assertTrue(forked.isAlive());
                long[] after = forked.memory();
                assertTrue(after[0] < 24L << 20, "heap used after the attacks: " + after[0]);
            }
            String log = forked.logText();
            assertFalse(log.contains("OutOfMemoryError"), log);
            assertFalse(log.contains("Exception in thread"), log);
        }
    }
}
