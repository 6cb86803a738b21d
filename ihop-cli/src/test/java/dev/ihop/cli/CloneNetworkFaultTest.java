package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.Archive;
import dev.ihop.format.ArchiveWriter;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.Compression;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.format.SampleImages;
import dev.ihop.remote.FaultyHttpServer;
import dev.ihop.remote.FaultyHttpServer.Fault;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ihop clone} against a server that breaks (FaultyHttpServer on 127.0.0.1): cut
 * connections, stalls longer than {@code --http-timeout}, 5xx and 404, Range ignored,
 * a wrong Content-Range, short and long bodies. With {@code --http-retry-count} a
 * transient fault is survived and the clone completes; without, the clone fails with one
 * line on stderr that names the URL and what went wrong. Either way the store holds only
 * chunk files that hash to their names, and a release file only for a complete clone.
 */
class CloneNetworkFaultTest {
    static final ChunkerConfig CHUNKER = ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 16384, 4096, 131072, 64);
    /** Serves a request normally: a "short body" missing nothing (FaultyHttpServer queues faults, not gaps). */
    static final Fault PASS = Fault.shortBody(0);
    /** Requests before the chunk data: size probe, pre-header, rest of the header. */
    static final Fault[] HEADER_REQUESTS = {PASS, PASS, PASS};

    @TempDir
    static Path dir;
    static byte[] image;
    static byte[] archiveBytes;
    static long headerSize;
    static FaultyHttpServer server;
    Path store;

    @BeforeAll
    static void start() throws IOException {
        image = SampleImages.image(41, 3_000_000);
        Path archive = dir.resolve("a.cba");
        new ArchiveWriter(new ArchiveWriter.Options(CHUNKER, 64, Compression.of(Compression.Type.ZSTD), Map.of(), "test", 2))
                .write(new ByteArrayInputStream(image), archive, false, n -> { });
        archiveBytes = Files.readAllBytes(archive);
        try (Archive a = Archive.open(new FileArchiveSource(archive))) {
            headerSize = a.header().size();
        }
        server = FaultyHttpServer.start().serve("/a.cba", archiveBytes);
    }

    @AfterAll
    static void stop() throws IOException {
        server.close();
    }

    @BeforeEach
    void freshStore() throws IOException {
        server.clearFaults();
        server.failAlways(null);
        server.clearRequests();
        store = Files.createTempDirectory(dir, "store");
    }

    /** How a fault is expected to end: survived with retries, and also without. */
    enum Outcome {
        /** A retry resumes where the body broke off. */
        RETRY_RESUMES,
        /** A retry asks again and succeeds. */
        RETRY_HELPS,
        ALWAYS_WORKS,
        ALWAYS_FAILS
    }

    static Stream<Arguments> faults() {
        List<Arguments> cases = new ArrayList<>();
        cases.add(Arguments.of("connection cut mid-body", chunkFault(Fault.cutAfter(100_000)), Outcome.RETRY_RESUMES, "after 100000 bytes"));
        cases.add(Arguments.of("stall longer than --http-timeout", chunkFault(Fault.stallAfter(50_000, Duration.ofSeconds(3))),
                Outcome.RETRY_RESUMES, "no data for 500 ms"));
        cases.add(Arguments.of("500 on the chunk request", chunkFault(Fault.status(500)), Outcome.RETRY_HELPS, "HTTP 500"));
        cases.add(Arguments.of("503 on the first request", new Fault[] {Fault.status(503)}, Outcome.RETRY_HELPS, "HTTP 503"));
        cases.add(Arguments.of("wrong Content-Range", chunkFault(Fault.shiftedRange(1000)), Outcome.RETRY_HELPS, "for a request of bytes"));
        cases.add(Arguments.of("short body", chunkFault(Fault.shortBody(1000)), Outcome.RETRY_HELPS, "Content-Length"));
        // The chunk request reaches the end of the file, where a long body cannot happen; the header read can.
        cases.add(Arguments.of("long body", new Fault[] {PASS, PASS, Fault.longBody(1000)}, Outcome.RETRY_HELPS, "Content-Length"));
        cases.add(Arguments.of("stalled headers", chunkFault(Fault.stallHeaders(Duration.ofSeconds(3))), Outcome.RETRY_HELPS,
                "no answer within 500 ms"));
        cases.add(Arguments.of("Range ignored (200, whole file)", chunkFault(Fault.ignoreRange()), Outcome.ALWAYS_WORKS, ""));
        cases.add(Arguments.of("404", null, Outcome.ALWAYS_FAILS, "HTTP 404 Not Found"));
        cases.add(Arguments.of("file size changes mid-clone", chunkFault(Fault.wrongTotal(1000)), Outcome.ALWAYS_FAILS,
                "changed size"));
        return cases.stream();
    }

    private static Fault[] chunkFault(Fault f) {
        Fault[] out = java.util.Arrays.copyOf(HEADER_REQUESTS, HEADER_REQUESTS.length + 1);
        out[HEADER_REQUESTS.length] = f;
        return out;
    }

    record Run(int exit, String stdout, String stderr) {}

    private Run clone(String url, String... extra) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new ArrayList<>(List.of("clone", "--http-timeout", "0.5"));
        args.addAll(List.of(extra));
        args.add(url);
        args.add(store.resolve("v1").toString());
        int exit = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private void inject(Fault[] faults) {
        if (faults == null) {
            server.failAlways(Fault.status(404));
        } else {
            server.failNext(faults);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void withoutRetries(String name, Fault[] faults, Outcome outcome, String expected) throws IOException {
        inject(faults);
        String url = server.uri("/a.cba").toString();
        Run run = clone(url);
        if (outcome == Outcome.ALWAYS_WORKS) {
            assertSucceeded(run);
            return;
        }
        assertFailedWithOneLine(run, url, expected);
        if (faults != null && faults.length > HEADER_REQUESTS.length) {
            assertTrue(server.requests().stream().anyMatch(r -> r.range() != null && !r.range().startsWith("bytes=0-")),
                    "the fault hit a chunk request: " + server.requests());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void withRetries(String name, Fault[] faults, Outcome outcome, String expected) throws IOException {
        inject(faults);
        String url = server.uri("/a.cba").toString();
        Run run = clone(url, "--http-retry-count", "3");
        if (outcome == Outcome.ALWAYS_FAILS) {
            assertFailedWithOneLine(run, url, expected);
            return;
        }
        assertSucceeded(run);
        if (outcome == Outcome.RETRY_RESUMES) {
            // The retry resumed: the chunk data was not all asked for twice.
            long asked = server.requests().stream().mapToLong(r -> rangeLength(r.range())).sum();
            assertTrue(asked < headerSize + 2L * (archiveBytes.length - headerSize),
                    "retries ask only for what is missing: " + server.requests());
        }
    }

    private static long rangeLength(String range) {
        if (range == null) {
            return 0;
        }
        String[] p = range.substring("bytes=".length()).split("-");
        return Long.parseLong(p[1]) - Long.parseLong(p[0]) + 1;
    }

    private void assertSucceeded(Run run) throws IOException {
        assertEquals(0, run.exit, "clone succeeds; stderr: " + run.stderr);
        assertEquals("", run.stderr);
        StoreChecks.checkChunks(store, 64);
        assertArrayEquals(image, StoreChecks.image(store.resolve("v1")));
    }

    private void assertFailedWithOneLine(Run run, String url, String expected) throws IOException {
        assertTrue(run.exit != 0, "clone fails");
        String err = run.stderr.strip();
        assertFalse(err.contains("\n"), "one line on stderr: " + run.stderr);
        assertTrue(err.startsWith("ihop: "), err);
        assertTrue(err.contains(url), "names the URL: " + err);
        assertTrue(err.contains(expected), "says what went wrong (" + expected + "): " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace or exception names: " + err);
        StoreChecks.Contents contents = StoreChecks.checkChunks(store, 64);
        assertEquals(0, contents.tempFiles(), "no temp files after a clean failure");
        assertFalse(Files.exists(store.resolve("v1")), "no release file after a failed clone");
        assertEquals(List.of(), StoreChecks.releases(store));
    }
}
