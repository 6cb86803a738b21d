package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.Archive;
import dev.ihop.format.ArchiveWriter;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.Compression;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.format.SampleImages;
import dev.ihop.remote.FaultyHttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL at random moments: {@code ihop clone} (over HTTP) and {@code ihop compress} run
 * as separate JVMs and are killed with {@link Process#destroyForcibly()} while starting,
 * while checking the store, while fetching and around the release write. After every kill
 * the store holds only chunk files whose content matches their name, a release file
 * exists only for a complete release, and the next run completes with the exact image.
 * A killed compress leaves no archive under the final name.
 *
 * <p>Kills are aimed with the phase lines {@code clone -v} prints ("ihop: fetching", ...):
 * each kill waits for its phase's line, then for a random part of that phase's measured
 * length. The seed is printed, so a failure can be replayed with {@code -Dihop.crashSeed}.
 */
class CrashConsistencyTest {
    static final ChunkerConfig CHUNKER = ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 16384, 4096, 131072, 64);
    static final int KILLS = 24;
    /** Quick start-up for the many short-lived JVMs (C1 only, serial GC); the work per run is small. */
    static final List<String> JVM = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto");
    static final int COMPRESS_RUNS = 10;
    static final String CHECKING = "ihop: checking store";
    static final String FETCHING = "ihop: fetching";
    static final String RELEASE = "ihop: writing release";

    @TempDir
    static Path dir;
    static byte[] image;
    static Path archive;
    static FaultyHttpServer server;
    static String url;

    @BeforeAll
    static void serveArchive() throws IOException {
        image = SampleImages.image(31, 8 << 20);
        archive = dir.resolve("v1.cba");
        new ArchiveWriter(new ArchiveWriter.Options(CHUNKER, 64, Compression.of(Compression.Type.ZSTD), Map.of(), "test", 2))
                .write(new ByteArrayInputStream(image), archive, false, n -> { });
        server = FaultyHttpServer.start().serve("/v1.cba", Files.readAllBytes(archive));
        url = server.uri("/v1.cba").toString();
    }

    @AfterAll
    static void stopServer() throws IOException {
        server.close();
    }

    private static long seed() {
        long seed = Long.getLong("ihop.crashSeed", System.nanoTime());
        System.out.println("CrashConsistencyTest seed: " + seed + " (replay with -Dihop.crashSeed=" + seed + ")");
        return seed;
    }

    private static ForkedCli clone(Path release) throws IOException {
        return ForkedCli.start(JVM, "clone", "-v", "-f", url, release.toString());
    }

    /** Durations of the phases of an undisturbed run, in ms. */
    record Phases(long checking, long fetching, long release, long total) {}

    private static Phases measure(Path release) throws IOException, InterruptedException {
        try (ForkedCli cli = clone(release)) {
            assertEquals(0, cli.await(120), cli.stderrText());
            long start = cli.startNanos();
            long[] t = new long[3];
            String[] names = {CHECKING, FETCHING, RELEASE};
            for (ForkedCli.Line l : cli.lines()) {
                for (int i = 0; i < names.length; i++) {
                    if (l.text().equals(names[i])) {
                        t[i] = (l.nanos() - start) / 1_000_000;
                    }
                }
            }
            long total = cli.millisSinceStart();
            assertTrue(t[0] > 0 && t[1] >= t[0] && t[2] >= t[1], "clone -v prints its phases: " + cli.stderrText());
            System.out.printf("phase lines at %d, %d, %d ms after the start; exit at %d ms%n", t[0], t[1], t[2], total);
            return new Phases(t[1] - t[0], t[2] - t[1], total - t[2], total);
        }
    }

    @Test
    void cloneKilledAtRandomMomentsNeverLeavesCorruptChunksOrIncompleteReleases() throws Exception {
        Random random = new Random(seed());
        Path store = dir.resolve("store");
        Path release = store.resolve("v1");

        // Calibration: an undisturbed clone into an empty store (long fetch), then one into a full store (long check).
        Phases fresh = measure(release);
        Files.delete(release);
        Phases full = measure(release);
        System.out.printf("undisturbed clone: fetch %d ms, release write %d ms, total %d ms; check of a full store %d ms%n",
                fresh.fetching, fresh.release, fresh.total, full.checking);
        assertArrayEquals(image, StoreChecks.image(release));
        Files.delete(release);

        Map<String, Integer> killsByPhase = new TreeMap<>();
        int kills = 0;
        int attempts = 0;
        int finishedFirst = 0;
        while (kills < KILLS && attempts < 3 * KILLS) {
            int target = attempts++ % 4;
            prepareStore(store, release, target, random);
            try (ForkedCli cli = clone(release)) {
                // When the process ends before its phase line, the kill below finds it finished.
                switch (target) {
                    case 0 -> sleep(random.nextInt(800)); // JVM start, header fetch, lock
                    case 1 -> {
                        if (cli.awaitLine(CHECKING, 60_000) != null) {
                            sleep(random.nextLong(Math.max(1, full.checking)));
                        }
                    }
                    case 2 -> {
                        if (cli.awaitLine(FETCHING, 60_000) != null) {
                            sleep(random.nextLong(Math.max(1, fresh.fetching)));
                        }
                    }
                    default -> {
                        if (cli.awaitLine(RELEASE, 60_000) != null) {
                            spin(random.nextLong(Math.max(1, fresh.release) * 1_000_000L));
                        }
                    }
                }
                if (cli.kill()) {
                    kills++;
                    String phase = cli.lastLineStartingWith("ihop: ");
                    killsByPhase.merge(phase == null ? "starting" : phase.substring(6), 1, Integer::sum);
                } else {
                    assertEquals(0, cli.process().exitValue(), "an undisturbed run succeeds: " + cli.stderrText());
                    finishedFirst++;
                }
            }
            checkAfterKill(store, release);
        }
        System.out.println("clone kills by phase at the moment of the kill: " + killsByPhase + ", runs that finished first: "
                + finishedFirst);
        assertTrue(kills >= 20, "at least 20 kills landed: " + kills);
        for (String phase : List.of("checking store", "fetching", "writing release")) {
            assertTrue(killsByPhase.getOrDefault(phase, 0) > 0, "some kills landed while " + phase + ": " + killsByPhase);
        }

        // The next run completes with the exact image, whatever the kills left behind.
        try (ForkedCli cli = clone(release)) {
            assertEquals(0, cli.await(120), cli.stderrText());
        }
        StoreChecks.checkChunks(store, 64);
        assertEquals(List.of(release.getFileName()), StoreChecks.releases(store).stream().map(Path::getFileName).toList());
        assertArrayEquals(image, StoreChecks.image(release));
    }

    /**
     * Leaves the store partly filled, as the target phase needs: for kills while checking,
     * most chunks present (so there is much to check); while fetching, most missing.
     */
    private static void prepareStore(Path store, Path release, int target, Random random) throws IOException {
        Files.deleteIfExists(release);
        double keep = switch (target) {
            case 1 -> 0.9;
            case 2 -> 0.2;
            case 3 -> 0.7;
            default -> 0.5;
        };
        Path chunks = store.resolve("chunks");
        if (!Files.isDirectory(chunks)) {
            return;
        }
        try (Stream<Path> files = Files.walk(chunks)) {
            for (Path p : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".chunk"))::iterator) {
                if (random.nextDouble() >= keep) {
                    Files.delete(p);
                }
            }
        }
    }

    /** After a kill: chunk files match their names; a release file that exists is complete. */
    private static void checkAfterKill(Path store, Path release) throws IOException {
        StoreChecks.checkChunks(store, 64);
        List<Path> releases = StoreChecks.releases(store);
        if (Files.exists(release)) {
            assertEquals(List.of(release.getFileName()), releases.stream().map(Path::getFileName).toList());
            assertArrayEquals(image, StoreChecks.image(release), "a release file exists only for a complete release");
        } else {
            assertEquals(List.of(), releases);
        }
    }

    @Test
    void compressKilledAtRandomMomentsLeavesNoPartialArchive() throws Exception {
        Random random = new Random(seed());
        Path work = Files.createDirectories(dir.resolve("compress"));
        Path input = work.resolve("image");
        Files.write(input, Arrays.copyOf(image, 4 << 20));
        Path output = work.resolve("out.cba");
        String[] args = {"compress", "-f", "-i", input.toString(), "--compression", "zstd", "--avg-chunk-size", "16KiB",
            "--min-chunk-size", "4KiB", "--max-chunk-size", "128KiB", output.toString()};
        long total;
        try (ForkedCli cli = ForkedCli.start(JVM, args)) {
            assertEquals(0, cli.await(120), cli.stderrText());
            total = cli.millisSinceStart();
        }
        Files.delete(output);
        int kills = 0;
        int complete = 0;
        for (int i = 0; i < COMPRESS_RUNS; i++) {
            try (ForkedCli cli = ForkedCli.start(JVM, args)) {
                // Up to 90% of an undisturbed run: a kill after the JVM exits would test nothing.
                sleep(random.nextLong(Math.max(1, total * 9 / 10)));
                kills += cli.kill() ? 1 : 0;
            }
            try (Stream<Path> files = Files.list(work)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    String name = p.getFileName().toString();
                    assertTrue(name.equals("image") || name.equals("out.cba") || (name.startsWith(".out.cba.") && name.endsWith(".tmp")),
                            "a leftover has a name that cannot be taken for the archive: " + p);
                }
            }
            if (Files.exists(output)) {
                complete++;
                try (Archive a = Archive.open(new FileArchiveSource(output))) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    a.extractTo(out);
                    assertArrayEquals(Files.readAllBytes(input), out.toByteArray(), "an archive under the final name is complete");
                }
                Files.delete(output);
            }
        }
        System.out.printf("compress: %d ms undisturbed, %d of %d runs killed, %d complete archives found after a kill%n",
                total, kills, COMPRESS_RUNS, complete);
        assertTrue(kills >= 3, "enough runs were killed: " + kills);
        try (ForkedCli cli = ForkedCli.start(JVM, args)) {
            assertEquals(0, cli.await(120), cli.stderrText());
        }
        try (Archive a = Archive.open(new FileArchiveSource(output))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            a.extractTo(out);
            assertArrayEquals(Files.readAllBytes(input), out.toByteArray());
        }
    }

    private static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }

    /** Waits {@code nanos} more precisely than sleep, for kills aimed at a window of a few ms. */
    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            LockSupport.parkNanos(Math.min(TimeUnit.MICROSECONDS.toNanos(200), end - System.nanoTime()));
        }
    }
}
