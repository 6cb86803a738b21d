package dev.ihop.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.ByteRange;
import dev.ihop.format.MalformedInputException;
import dev.ihop.remote.FaultyHttpServer.Fault;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** HttpArchiveSource against a server that breaks on purpose. */
class HttpArchiveSourceFaultTest {
    private static final int SIZE = 1 << 20;
    private static final Duration TIMEOUT = Duration.ofMillis(1000);
    private static final Duration LONG_PAUSE = Duration.ofSeconds(30);

    private final byte[] content = new byte[SIZE];
    private FaultyHttpServer server;
    private URI uri;

    @BeforeEach
    void start() throws IOException {
        new Random(3).nextBytes(content);
        server = FaultyHttpServer.start().serve("/a.cba", content);
        uri = server.uri("/a.cba");
    }

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    private HttpArchiveSource source(int retries) {
        return new HttpArchiveSource(uri, HttpOptions.defaults().withRetries(retries)
                .withRetryDelay(Duration.ofMillis(10)).withTimeout(TIMEOUT));
    }

    private byte[] slice(ByteRange r) {
        return Arrays.copyOfRange(content, (int) r.offset(), (int) r.end());
    }

    private void assertDelivered(List<ByteRange> ranges, List<byte[]> got) {
        assertEquals(ranges.size(), got.size());
        for (int i = 0; i < ranges.size(); i++) {
            assertArrayEquals(slice(ranges.get(i)), got.get(i), "range " + i + " " + ranges.get(i));
        }
    }

    /**
     * Connects and loads the client's classes before a fault is queued, so that a slow first
     * connection on a busy machine cannot time out and be retried in the fault's place.
     */
    private static void warmUp(HttpArchiveSource s) throws IOException {
        assertEquals(SIZE, s.size());
    }

    /** Ranges that merge into one request of bytes 100000-160099. */
    private static final List<ByteRange> MERGED = List.of(
            new ByteRange(100_000, 20_000), new ByteRange(120_000, 20_000), new ByteRange(141_000, 19_100));

    static Stream<Arguments> transientFaults() {
        return Stream.of(
                Arguments.of(Fault.status(500), "HTTP 500 Internal Server Error"),
                Arguments.of(Fault.status(503), "HTTP 503 Service Unavailable"),
                Arguments.of(Fault.status(429), "HTTP 429 Too Many Requests"),
                // Headers then nothing: HttpClient fails either send() or the first body read.
                Arguments.of(Fault.cutAfter(0), "bytes 100000-160099"),
                // HttpClient may drop data it had received when it sees the connection close.
                Arguments.of(Fault.cutAfter(30_000), "bytes of bytes 100000-160099"),
                Arguments.of(Fault.stallAfter(25_000, LONG_PAUSE), "no data for 1 s after 25000 bytes of bytes 100000-160099"),
                Arguments.of(Fault.stallHeaders(LONG_PAUSE), "no answer within 1 s to a request for bytes 100000-160099"),
                Arguments.of(Fault.shiftedRange(100), "server answered bytes 100100-160199/1048576 for a request of bytes 100000-160099"),
                Arguments.of(Fault.shortBody(10), "server announced Content-Length 60090 for bytes 100000-160099/1048576"),
                Arguments.of(Fault.longBody(10), "server announced Content-Length 60110 for bytes 100000-160099/1048576"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transientFaults")
    void transientFaultIsRetriedAndTheBytesAreRight(Fault fault, String message) throws IOException {
        try (HttpArchiveSource s = source(1)) {
            warmUp(s);
            server.failNext(fault);
            assertDelivered(MERGED, RangeSets.collect(s, MERGED));
            assertEquals(1, s.stats().retries());
            assertEquals(1 + 2, s.stats().requests());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transientFaults")
    void withoutRetriesAFaultIsOneLineNamingTheUrl(Fault fault, String message) throws IOException {
        try (HttpArchiveSource s = source(0)) {
            warmUp(s);
            server.failNext(fault);
            long started = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> RangeSets.collect(s, MERGED));
            assertTrue(e.getMessage().startsWith(uri + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(message), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertEquals(1 + 1, s.stats().requests());
            // Stalls end at the timeout, not when the server resumes.
            assertTrue(System.nanoTime() - started < LONG_PAUSE.toNanos() / 4, "took too long");
        }
    }

    @Test
    void exactMessages() throws IOException {
        try (HttpArchiveSource s = source(0)) {
            server.failNext(Fault.status(404));
            assertEquals(uri + ": HTTP 404 Not Found (for bytes 100-199)",
                    assertThrows(HttpStatusException.class, () -> s.read(100, 100)).getMessage());
            server.failNext(Fault.shiftedRange(100));
            MalformedInputException shifted = assertThrows(MalformedInputException.class, () -> s.read(100, 100));
            assertEquals(uri + ": server answered bytes 200-299/1048576 for a request of bytes 100-199", shifted.getMessage());
            server.failNext(Fault.wrongTotal(1));
            assertEquals(uri + ": the file changed size from 1048576 to 1048577 bytes",
                    assertThrows(IOException.class, () -> s.read(100, 100)).getMessage());
        }
    }

    @Test
    void permanentStatusIsNotRetried() throws IOException {
        for (int status : new int[] {400, 401, 403, 404, 410}) {
            try (HttpArchiveSource s = source(3)) {
                server.failNext(Fault.status(status));
                HttpStatusException e = assertThrows(HttpStatusException.class, () -> s.read(0, 10));
                assertEquals(status, e.status());
                assertEquals(1, s.stats().requests(), "status " + status);
            }
        }
    }

    @Test
    void retriesRunOutAfterTheConfiguredCount() throws IOException {
        try (HttpArchiveSource s = source(2)) {
            server.failAlways(Fault.status(503));
            HttpStatusException e = assertThrows(HttpStatusException.class, () -> s.read(0, 10));
            assertEquals(uri + ": HTTP 503 Service Unavailable (for bytes 0-9) (failed 3 times in a row)", e.getMessage());
            assertEquals(3, s.stats().requests());
            assertEquals(2, s.stats().retries());
        }
    }

    @Test
    void retryAsksOnlyForTheBytesNotYetReceived() throws IOException {
        try (HttpArchiveSource s = source(2)) {
            // Cut 500 bytes into range 1, then 7000 bytes further, then in the gap before range 2.
            server.failNext(Fault.cutAfter(20_500), Fault.cutAfter(7_000), Fault.cutAfter(13_000));
            List<Integer> order = new ArrayList<>();
            List<byte[]> got = new ArrayList<>();
            s.readRanges(MERGED, (i, data) -> {
                order.add(i);
                got.add(data.clone());
            });
            assertDelivered(MERGED, got);
            assertEquals(List.of(0, 1, 2), order);
            List<String> asked = server.requests().stream().map(FaultyHttpServer.Request::range).toList();
            assertEquals(List.of("bytes=100000-160099", "bytes=120500-160099", "bytes=127500-160099", "bytes=141000-160099"), asked);
            // Every byte of [100000, 140500) once, then [141000, 160100): nothing came twice.
            assertEquals(40_500 + 19_100, s.stats().bytesDownloaded());
        }
    }

    @Test
    void progressResetsTheRetryCount() throws IOException {
        try (HttpArchiveSource s = source(1)) {
            // Three cuts, each after some progress: one retry each is enough.
            server.failNext(Fault.cutAfter(10_000), Fault.cutAfter(10_000), Fault.cutAfter(10_000));
            assertDelivered(MERGED, RangeSets.collect(s, MERGED));
            assertEquals(4, s.stats().requests());
        }
    }

    @Test
    void rangesAreHandedOnWhileTheResponseIsStillArriving() throws IOException {
        try (HttpArchiveSource s = new HttpArchiveSource(uri, HttpOptions.defaults().withTimeout(Duration.ofSeconds(5)))) {
            // The body pauses for 1 s after range 0 and most of range 1.
            server.failNext(Fault.stallAfter(35_000, Duration.ofSeconds(1)));
            long[] deliveredAt = new long[MERGED.size()];
            long start = System.nanoTime();
            s.readRanges(MERGED, (i, data) -> deliveredAt[i] = System.nanoTime() - start);
            assertTrue(deliveredAt[0] < Duration.ofMillis(700).toNanos(), "range 0 delivered before the pause: " + deliveredAt[0]);
            assertTrue(deliveredAt[1] >= Duration.ofMillis(900).toNanos(), "range 1 after it: " + deliveredAt[1]);
        }
    }

    @Test
    void serverIgnoringRangeWithoutRetries() throws IOException {
        try (HttpArchiveSource s = source(0)) {
            server.failAlways(Fault.ignoreRange());
            assertDelivered(MERGED, RangeSets.collect(s, MERGED));
            assertArrayEquals(slice(new ByteRange(SIZE - 1, 1)), s.read(SIZE - 1, 1));
            assertEquals(SIZE, s.size());
        }
    }

    @Test
    void interruptStopsAStalledReadWithoutRetrying() throws Exception {
        try (HttpArchiveSource s = new HttpArchiveSource(uri, HttpOptions.defaults().withRetries(5)
                .withTimeout(Duration.ofSeconds(20)))) {
            server.failAlways(Fault.stallAfter(1000, LONG_PAUSE));
            IOException[] failure = new IOException[1];
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    s.read(0, 50_000);
                } catch (IOException e) {
                    failure[0] = e;
                }
            });
            Thread.sleep(300);
            reader.interrupt();
            reader.join(5_000);
            assertFalse(reader.isAlive(), "still reading after the interrupt");
            assertTrue(failure[0] instanceof java.io.InterruptedIOException, String.valueOf(failure[0]));
            assertEquals(0, s.stats().retries());
        }
    }

    @Test
    void emptyRangePastTheKnownEndFails() throws IOException {
        try (HttpArchiveSource s = source(0)) {
            assertArrayEquals(new byte[0], s.read(SIZE + 5, 0), "size not known yet: nothing to check");
            s.size();
            assertArrayEquals(new byte[0], s.read(SIZE, 0));
            assertThrows(java.io.EOFException.class, () -> s.read(SIZE + 5, 0));
        }
    }

    @Test
    void consumerFailureIsPassedOnAndNotRetried() throws IOException {
        try (HttpArchiveSource s = source(3)) {
            IOException mine = new IOException("disk full");
            IOException e = assertThrows(IOException.class, () -> s.readRanges(MERGED, (i, data) -> {
                if (i == 1) {
                    throw mine;
                }
            }));
            assertSame(mine, e);
            assertEquals(1, s.stats().requests());
        }
    }

    @Test
    void keepAliveReusesOneConnection() throws IOException {
        try (HttpArchiveSource s = source(0)) {
            for (int i = 0; i < 20; i++) {
                assertArrayEquals(slice(new ByteRange(i * 1000L, 500)), s.read(i * 1000L, 500));
            }
            assertEquals(1, server.connections());
        }
    }

    @Test
    void extraHeadersAreSent() throws IOException {
        HttpOptions options = HttpOptions.defaults().withHeaders(List.of("Authorization: Bearer abc", "X-Device:  7 "));
        try (HttpArchiveSource s = new HttpArchiveSource(uri, options)) {
            s.read(0, 1);
            FaultyHttpServer.Request r = server.requests().getFirst();
            assertEquals("Bearer abc", r.headers().get("authorization"));
            assertEquals("7", r.headers().get("x-device"));
            assertEquals("ihop", r.headers().get("user-agent"));
        }
    }

    @Test
    void badOptionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.defaults().withHeaders(List.of("no colon")));
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.defaults().withHeaders(List.of("Range: bytes=0-1")));
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.defaults().withRetries(-1));
        assertThrows(IllegalArgumentException.class, () -> HttpOptions.defaults().withTimeout(Duration.ZERO));
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> new HttpArchiveSource(uri, HttpOptions.defaults().withHeaders(List.of("Host: x"))));
        assertTrue(host.getMessage().startsWith(uri + ": cannot send the given headers"), host.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HttpArchiveSource(URI.create("ftp://h/a.cba")));
    }

    @Test
    void refusedConnectionNamesTheUrl() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI closed = URI.create("http://127.0.0.1:" + port + "/a.cba");
        try (HttpArchiveSource s = new HttpArchiveSource(closed, HttpOptions.defaults().withRetries(1).withRetryDelay(Duration.ZERO))) {
            IOException e = assertThrows(IOException.class, s::size);
            assertTrue(e.getMessage().startsWith(closed + ": request for bytes 0-0 failed: "), e.getMessage());
            assertTrue(e.getMessage().endsWith("(failed 2 times in a row)"), e.getMessage());
        }
    }
}
