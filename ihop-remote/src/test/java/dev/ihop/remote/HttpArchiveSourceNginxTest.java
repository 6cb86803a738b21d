package dev.ihop.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.ByteRange;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HttpArchiveSource against a real nginx: requests and merging as nginx's access log sees them. */
class HttpArchiveSourceNginxTest {
    private static final int SIZE = 3 * 1024 * 1024 + 12345;
    private static final int BIG_SIZE = 40 * 1024 * 1024;
    private static final Duration LOG_WAIT = Duration.ofSeconds(5);

    @TempDir
    static Path root;
    static byte[] content;
    static NginxServer nginx;

    @BeforeAll
    static void startNginx() throws IOException {
        content = new byte[SIZE];
        new Random(42).nextBytes(content);
        Files.write(root.resolve("a.cba"), content);
        Files.write(root.resolve("empty.cba"), new byte[0]);
        byte[] big = new byte[BIG_SIZE];
        new Random(7).nextBytes(big);
        Files.write(root.resolve("big.cba"), big);
        // /plain/ behaves like a server without range support: Range is ignored, 200 with the file.
        Files.createDirectories(root.resolve("plain"));
        Files.write(root.resolve("plain/a.cba"), content);
        nginx = NginxServer.start(root, "location /plain/ { max_ranges 0; }");
    }

    @AfterAll
    static void stopNginx() throws IOException {
        if (nginx != null) {
            nginx.close();
        }
    }

    @BeforeEach
    void clearLog() throws IOException {
        nginx.clearAccessLog();
    }

    private static HttpArchiveSource source(String path) {
        return new HttpArchiveSource(nginx.uri(path), HttpOptions.defaults().withTimeout(Duration.ofSeconds(10)));
    }

    private static byte[] slice(long offset, int length) {
        return Arrays.copyOfRange(content, (int) offset, (int) offset + length);
    }

    /** The access log of the requests {@code source} made, checked to be complete. */
    private static List<NginxServer.AccessLogEntry> log(HttpArchiveSource source) throws IOException {
        int expected = (int) source.stats().requests();
        List<NginxServer.AccessLogEntry> log = nginx.awaitAccessLog(expected, LOG_WAIT);
        assertEquals(expected, log.size(), "access log: " + log);
        return log;
    }

    private static List<String> rangesAsked(List<NginxServer.AccessLogEntry> log) {
        return log.stream().map(NginxServer.AccessLogEntry::range).toList();
    }

    private static void assertOneConnection(List<NginxServer.AccessLogEntry> log) {
        assertEquals(1, log.stream().map(NginxServer.AccessLogEntry::connection).distinct().count(),
                "keep-alive: every request on one connection: " + log);
    }

    @Test
    void sizeAndSingleReadsEachMakeOneRequestOnOneConnection() throws IOException {
        try (HttpArchiveSource s = source("a.cba")) {
            assertEquals(SIZE, s.size());
            assertEquals(SIZE, s.size(), "cached");
            assertArrayEquals(slice(0, 1), s.read(0, 1));
            assertArrayEquals(slice(1000, 70000), s.read(1000, 70000));
            assertArrayEquals(slice(SIZE - 17, 17), s.read(SIZE - 17, 17));
            assertArrayEquals(new byte[0], s.read(SIZE, 0));
            List<NginxServer.AccessLogEntry> log = log(s);
            assertEquals(List.of("bytes=0-0", "bytes=0-0", "bytes=1000-70999", "bytes=" + (SIZE - 17) + "-" + (SIZE - 1)),
                    rangesAsked(log));
            assertTrue(log.stream().allMatch(e -> e.status() == 206), log::toString);
            assertOneConnection(log);
            assertEquals(1 + 1 + 70000 + 17, s.stats().bytesDownloaded());
            assertEquals(s.stats().bytesDownloaded(), log.stream().mapToLong(NginxServer.AccessLogEntry::bodyBytesSent).sum());
        }
    }

    @Test
    void adjacentAndNearRangesAreMergedIntoOneRequest() throws IOException {
        // 200 chunk-like ranges, some touching, some with gaps up to MAX_GAP.
        Random rnd = new Random(1);
        List<ByteRange> ranges = new ArrayList<>();
        long pos = 5000;
        for (int i = 0; i < 200; i++) {
            int length = 100 + rnd.nextInt(5000);
            ranges.add(new ByteRange(pos, length));
            pos += length + (i % 3 == 0 ? 0 : rnd.nextInt(HttpArchiveSource.MAX_GAP + 1));
        }
        try (HttpArchiveSource s = source("a.cba")) {
            List<byte[]> got = RangeSets.collect(s, ranges);
            for (int i = 0; i < ranges.size(); i++) {
                assertArrayEquals(slice(ranges.get(i).offset(), ranges.get(i).length()), got.get(i), "range " + i);
            }
            List<NginxServer.AccessLogEntry> log = log(s);
            long span = ranges.getLast().end() - ranges.getFirst().offset();
            assertEquals(List.of("bytes=5000-" + (ranges.getLast().end() - 1)), rangesAsked(log));
            assertEquals(span, log.getFirst().bodyBytesSent());
            assertEquals(span, s.stats().bytesDownloaded());
        }
    }

    @Test
    void rangesFartherApartThanMaxGapGetTheirOwnRequests() throws IOException {
        int gap = HttpArchiveSource.MAX_GAP;
        List<ByteRange> ranges = List.of(
                new ByteRange(0, 10), new ByteRange(10 + gap, 10),          // merged: gap exactly MAX_GAP
                new ByteRange(20 + 2 * gap + 1, 10),                         // alone: gap MAX_GAP + 1
                new ByteRange(SIZE - 5, 5));                                 // alone, at the end
        try (HttpArchiveSource s = source("a.cba")) {
            List<byte[]> got = RangeSets.collect(s, ranges);
            for (int i = 0; i < ranges.size(); i++) {
                assertArrayEquals(slice(ranges.get(i).offset(), ranges.get(i).length()), got.get(i));
            }
            List<NginxServer.AccessLogEntry> log = log(s);
            assertEquals(List.of("bytes=0-" + (19 + gap), "bytes=" + (20 + 2 * gap + 1) + "-" + (29 + 2 * gap + 1),
                    "bytes=" + (SIZE - 5) + "-" + (SIZE - 1)), rangesAsked(log));
            assertOneConnection(log);
        }
    }

    @Test
    void mergedRequestsAreBoundedInSize() throws IOException {
        // 40 MiB of touching 1 MiB ranges: at most MAX_REQUEST_BYTES per request.
        List<ByteRange> ranges = new ArrayList<>();
        for (long off = 0; off < BIG_SIZE; off += 1 << 20) {
            ranges.add(new ByteRange(off, 1 << 20));
        }
        long[] delivered = {0};
        try (HttpArchiveSource s = source("big.cba")) {
            s.readRanges(ranges, (i, data) -> delivered[0] += data.length);
            assertEquals(BIG_SIZE, delivered[0]);
            List<NginxServer.AccessLogEntry> log = log(s);
            int perRequest = HttpArchiveSource.MAX_REQUEST_BYTES >> 20;
            assertEquals((40 + perRequest - 1) / perRequest, log.size(), log::toString);
            for (NginxServer.AccessLogEntry e : log) {
                assertTrue(e.bodyBytesSent() <= HttpArchiveSource.MAX_REQUEST_BYTES, e::toString);
            }
            assertEquals(BIG_SIZE, log.stream().mapToLong(NginxServer.AccessLogEntry::bodyBytesSent).sum());
            assertOneConnection(log);
        }
    }

    @Test
    void serverIgnoringRangeIsReadUpToTheLastByteWanted() throws IOException {
        List<ByteRange> ranges = List.of(new ByteRange(10, 100), new ByteRange(200_000, 5), new ByteRange(300_000, 1000));
        try (HttpArchiveSource s = source("plain/a.cba")) {
            assertEquals(SIZE, s.size());
            List<byte[]> got = RangeSets.collect(s, ranges);
            for (int i = 0; i < ranges.size(); i++) {
                assertArrayEquals(slice(ranges.get(i).offset(), ranges.get(i).length()), got.get(i));
            }
            assertArrayEquals(slice(SIZE - 3, 3), s.read(SIZE - 3, 3));
            List<NginxServer.AccessLogEntry> log = log(s);
            assertEquals(3, log.size(), "size, one pass for all ranges, one read: " + log);
            assertTrue(log.stream().allMatch(e -> e.status() == 200), log::toString);
            // The client read each body only up to the last byte it wanted (nginx's own
            // count is no help here: loopback socket buffers swallow the whole file).
            assertEquals(301_000 + SIZE, s.stats().bytesDownloaded());
        }
    }

    @Test
    void emptyFileHasSizeZero() throws IOException {
        try (HttpArchiveSource s = source("empty.cba")) {
            assertEquals(0, s.size());
            assertArrayEquals(new byte[0], s.read(0, 0));
        }
    }

    @Test
    void readPastTheEndFailsWithTheSize() throws IOException {
        try (HttpArchiveSource s = source("a.cba")) {
            EOFException e = assertThrows(EOFException.class, () -> s.read(SIZE - 10, 20));
            assertEquals(nginx.uri("a.cba") + ": wanted bytes " + (SIZE - 10) + "-" + (SIZE + 9)
                    + " but the file has " + SIZE + " bytes", e.getMessage());
            EOFException beyond = assertThrows(EOFException.class, () -> s.read(SIZE + 10, 20));
            assertTrue(beyond.getMessage().startsWith(nginx.uri("a.cba") + ": HTTP 416 Range Not Satisfiable"), beyond.getMessage());
        }
    }

    @Test
    void missingFileIsOneLineWithTheStatus() {
        try (HttpArchiveSource s = source("nope.cba")) {
            HttpStatusException e = assertThrows(HttpStatusException.class, () -> s.read(0, 10));
            assertEquals(nginx.uri("nope.cba") + ": HTTP 404 Not Found (for bytes 0-9)", e.getMessage());
            assertEquals(404, e.status());
            HttpStatusException size = assertThrows(HttpStatusException.class, s::size);
            assertEquals(404, size.status());
        }
    }
}
