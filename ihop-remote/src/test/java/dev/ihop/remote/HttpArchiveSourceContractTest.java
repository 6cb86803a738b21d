package dev.ihop.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.ArchiveSource;
import dev.ihop.format.ByteRange;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.remote.FaultyHttpServer.Fault;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HttpArchiveSource delivers byte for byte what FileArchiveSource delivers for the same
 * file, for random range sets (tiny, empty, adjacent, gaps around MAX_GAP, the last byte),
 * from nginx, from the plain fault server, and through random cuts with retries.
 */
class HttpArchiveSourceContractTest {
    private static final int SIZE = 2 * 1024 * 1024 + 777;
    private static final int ROUNDS = 60;

    @TempDir
    static Path root;
    static Path file;
    static NginxServer nginx;
    static FaultyHttpServer faulty;

    @BeforeAll
    static void start() throws IOException {
        byte[] content = new byte[SIZE];
        new Random(11).nextBytes(content);
        file = root.resolve("a.cba");
        Files.write(file, content);
        faulty = FaultyHttpServer.start().serve("/a.cba", content);
    }

    @AfterAll
    static void stop() throws IOException {
        if (nginx != null) {
            nginx.close();
        }
        faulty.close();
    }

    private static void assertSameAsFile(ArchiveSource http, long seed) throws IOException {
        Random rnd = new Random(seed);
        try (FileArchiveSource local = new FileArchiveSource(file)) {
            assertEquals(local.size(), http.size());
            for (int round = 0; round < ROUNDS; round++) {
                List<ByteRange> ranges = RangeSets.random(rnd, SIZE);
                List<byte[]> want = RangeSets.collect(local, ranges);
                List<byte[]> got = RangeSets.collect(http, ranges);
                assertEquals(want.size(), got.size());
                for (int i = 0; i < want.size(); i++) {
                    assertArrayEquals(want.get(i), got.get(i), "round " + round + " range " + ranges.get(i));
                }
                ByteRange one = ranges.isEmpty() ? new ByteRange(0, 1) : ranges.get(rnd.nextInt(ranges.size()));
                assertArrayEquals(local.read(one.offset(), one.length()), http.read(one.offset(), one.length()));
            }
        }
    }

    @Test
    void nginx() throws IOException {
        nginx = NginxServer.start(root);
        try (HttpArchiveSource http = new HttpArchiveSource(nginx.uri("a.cba"))) {
            assertSameAsFile(http, 1);
        }
    }

    @Test
    void faultServerWithoutFaults() throws IOException {
        faulty.failAlways(null);
        try (HttpArchiveSource http = new HttpArchiveSource(faulty.uri("/a.cba"))) {
            assertSameAsFile(http, 2);
        }
    }

    @Test
    void faultServerIgnoringRange() throws IOException {
        faulty.failAlways(Fault.ignoreRange());
        try (HttpArchiveSource http = new HttpArchiveSource(faulty.uri("/a.cba"))) {
            assertSameAsFile(http, 3);
        } finally {
            faulty.failAlways(null);
        }
    }

    @Test
    void randomCutsAreRepairedByResumingRetries() throws IOException {
        Random rnd = new Random(4);
        Fault[] cuts = new Fault[400];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = Fault.cutAfter(rnd.nextInt(40_000));
        }
        // The next 400 requests are each cut somewhere in their first 40 KB (those shorter
        // than the cut come through whole); each retry resumes and may be cut again.
        faulty.failNext(cuts);
        HttpOptions options = HttpOptions.defaults().withRetries(3).withRetryDelay(Duration.ZERO);
        try (HttpArchiveSource http = new HttpArchiveSource(faulty.uri("/a.cba"), options)) {
            assertSameAsFile(http, 5);
            assertTrue(http.stats().retries() > 100, http.stats()::toString);
        } finally {
            faulty.clearFaults();
        }
    }
}
