package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ihop.format.SampleImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL at random moments of {@code ihop extract STORE/v2 OUTPUT}, run as a separate JVM.
 *
 * <p>In place (OUTPUT holds v1's image, same size as v2): after every kill OUTPUT still has
 * the image size, every 64 KiB block of it is v1's or v2's block at that offset (one block,
 * the one being written, may be cut between pages: each of its 4 KiB pages is v1's or
 * v2's), and nothing else appeared beside it. The run after the kills ends with exactly
 * v2 and writes exactly the blocks that still differed. Kills are aimed at the write
 * phase by watching OUTPUT's mtime (the first write changes it).
 *
 * <p>Fresh (no OUTPUT yet): after every kill OUTPUT is absent, or complete; leftovers are
 * hidden {@code .OUTPUT.PID.tmp} files. The next run completes and removes them.
 *
 * <p>The seed is printed; replay with {@code -Dihop.crashSeed=}.
 */
class ExtractCrashTest {
    static final int IMAGE_SIZE = 32 << 20;
    static final int BLOCK = 64 << 10;
    static final int PAGE = 4096;
    static final int KILLS = 12;
    static final int FRESH_KILLS = 6;
    static final Pattern IN_PLACE = Pattern.compile("in place: wrote (\\d+) of (\\d+) blocks of [^,]+, (\\d+) bytes");

    @TempDir
    static Path dir;
    static byte[] v1;
    static byte[] v2;
    static Path release;

    @BeforeAll
    static void makeStore() throws IOException {
        v1 = SampleImages.image(41, IMAGE_SIZE);
        v2 = modified(v1, new Random(42));
        Path store = dir.resolve("store");
        for (String v : new String[] {"v1", "v2"}) {
            Path img = dir.resolve(v + ".img");
            Files.write(img, v.equals("v1") ? v1 : v2);
            inProcess("compress", "--compression", "zstd", "--compression-level", "1", "--avg-chunk-size", "64KiB",
                    "--min-chunk-size", "16KiB", "--max-chunk-size", "256KiB", "-i", img.toString(), dir.resolve(v + ".cba").toString());
            inProcess("clone", dir.resolve(v + ".cba").toString(), store.resolve(v).toString());
            Files.delete(img);
        }
        release = store.resolve("v2");
    }

    /**
     * v1 of the same size (a fixed-size slot) with about a third of it rewritten in runs
     * of 64 KiB–1 MiB, and one stretch shifted by 3000 bytes: many blocks differ, spread
     * over the whole image, and many stay the same.
     */
    static byte[] modified(byte[] base, Random random) {
        byte[] out = base.clone();
        int rewritten = 0;
        while (rewritten < base.length / 3) {
            int n = (64 << 10) + random.nextInt(1 << 20);
            int at = random.nextInt(base.length - n);
            byte[] fresh = new byte[n];
            random.nextBytes(fresh);
            System.arraycopy(fresh, 0, out, at, n);
            rewritten += n;
        }
        int from = base.length / 2;
        int len = 4 << 20;
        System.arraycopy(base, from, out, from + 3000, len);
        return out;
    }

    private static void inProcess(String... args) {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
        assertEquals(0, code, String.join(" ", args) + ": " + err);
    }

    private static long seed() {
        long seed = Long.getLong("ihop.crashSeed", System.nanoTime());
        System.out.println("ExtractCrashTest seed: " + seed + " (replay with -Dihop.crashSeed=" + seed + ")");
        return seed;
    }

    private static ForkedCli extract(Path output) throws IOException {
        return ForkedCli.start(CrashConsistencyTest.JVM, "extract", release.toString(), output.toString());
    }

    record Completed(int code, String out, String err, long millis) {}

    /** {@code ihop extract} as a separate JVM, to the end, with its stdout (ForkedCli discards it). */
    private static Completed extractToEnd(Path output) throws IOException, InterruptedException {
        Path out = dir.resolve("extract.out");
        Path err = dir.resolve("extract.err");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
        command.addAll(CrashConsistencyTest.JVM);
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "extract", release.toString(), output.toString()));
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("extract did not finish within 60 s");
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new Completed(p.exitValue(), Files.readString(out), Files.readString(err), millis);
    }

    /** What a look at a killed in-place OUTPUT found. */
    record Look(long differingBlocks, long differingBytes, long newBlocks, boolean mixedBlock) {}

    /**
     * Every block of {@code actual} is v1's or v2's; at most one is neither, and that one is
     * v1's and v2's pages (a kill inside a write). Counts the blocks still differing from v2.
     */
    private static Look look(byte[] actual) {
        long differing = 0;
        long bytes = 0;
        long fromV2 = 0;
        int mixed = -1;
        for (int from = 0; from < actual.length; from += BLOCK) {
            int to = Math.min(actual.length, from + BLOCK);
            boolean isV2 = Arrays.equals(actual, from, to, v2, from, to);
            boolean isV1 = Arrays.equals(actual, from, to, v1, from, to);
            if (!isV2) {
                differing++;
                bytes += to - from;
            } else if (!isV1) {
                fromV2++;
            }
            if (!isV1 && !isV2) {
                assertEquals(-1, mixed, "only the block being written when killed may be mixed; blocks at " + mixed + " and " + from);
                mixed = from;
                for (int page = from; page < to; page += PAGE) {
                    int end = Math.min(to, page + PAGE);
                    assertTrue(Arrays.equals(actual, page, end, v1, page, end) || Arrays.equals(actual, page, end, v2, page, end),
                            "garbage at offset " + page + ": neither v1 nor v2");
                }
            }
        }
        return new Look(differing, bytes, fromV2, mixed >= 0);
    }

    private static List<String> listing(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void inPlaceKilledAtRandomMomentsLeavesOnlyOldAndNewBlocks() throws Exception {
        Random random = new Random(seed());
        Path slot = Files.createDirectories(dir.resolve("slot"));
        Path output = slot.resolve("out.img");
        long allDiffering = look(v1).differingBytes;
        System.out.printf("in place: %d of %d bytes differ between v1 and v2 (64 KiB blocks)%n", allDiffering, IMAGE_SIZE);

        // Calibration: an undisturbed run; when the first write lands (mtime changes) and when it ends.
        Files.write(output, v1);
        long firstWrite;
        long lastWrite;
        long total;
        try (ForkedCli cli = extract(output)) {
            firstWrite = awaitMtimeChange(output, cli);
            lastWrite = firstWrite;
            for (long t; (t = awaitMtimeChange(output, cli)) >= 0; ) {
                lastWrite = t;
            }
            assertEquals(0, cli.await(60), cli.stderrText());
            total = cli.millisSinceStart();
        }
        assertArrayEquals(v2, Files.readAllBytes(output));
        assertTrue(firstWrite > 0, "the first write was seen");
        long writing = Math.max(1, lastWrite - firstWrite);
        System.out.printf("undisturbed extract in place: writes seen from %d to %d ms after the start, exit after %d ms%n", firstWrite,
                lastWrite, total);

        int kills = 0;
        int midWrite = 0;
        int mixedBlocks = 0;
        int finishedFirst = 0;
        int rounds = 0;
        while (kills < KILLS && rounds < 3 * KILLS) {
            rounds++;
            Files.write(output, v1);
            // Sometimes the run after a kill is killed too, before a run completes.
            int chain = random.nextInt(3) == 0 ? 2 : 1;
            for (int c = 0; c < chain; c++) {
                long before = look(Files.readAllBytes(output)).differingBlocks;
                try (ForkedCli cli = extract(output)) {
                    if (random.nextInt(4) == 0) {
                        Thread.sleep(random.nextLong(total)); // anywhere, start-up included
                    } else if (awaitMtimeChange(output, cli) >= 0) {
                        Thread.sleep(random.nextLong(writing));
                    }
                    if (!cli.kill()) {
                        assertEquals(0, cli.process().exitValue(), cli.stderrText());
                        finishedFirst++;
                        assertArrayEquals(v2, Files.readAllBytes(output), "an undisturbed run ends with v2");
                        break;
                    }
                }
                kills++;
                assertEquals(IMAGE_SIZE, Files.size(output), "OUTPUT keeps the image size after a kill");
                assertEquals(List.of("out.img"), listing(slot), "an in-place update leaves nothing beside OUTPUT");
                Look l = look(Files.readAllBytes(output));
                if (l.differingBlocks > 0 && l.differingBlocks < before) {
                    midWrite++;
                }
                mixedBlocks += l.mixedBlock ? 1 : 0;
            }

            // The next run finishes the job, writing only what still differs.
            Look left = look(Files.readAllBytes(output));
            Completed r = extractToEnd(output);
            assertEquals(0, r.code, r.err);
            Matcher m = IN_PLACE.matcher(r.out);
            assertTrue(m.find(), "extract reports an in-place update: " + r.out);
            assertEquals(left.differingBlocks, Long.parseLong(m.group(1)), r.out);
            assertEquals(left.differingBytes, Long.parseLong(m.group(3)), "the rerun writes only the blocks that still differ: " + r.out);
            assertTrue(Long.parseLong(m.group(3)) <= allDiffering);
            assertEquals(IMAGE_SIZE, Files.size(output));
            assertArrayEquals(v2, Files.readAllBytes(output), "the rerun ends with v2");
        }
        System.out.printf("in place: %d kills in %d rounds, %d mid-write (some but not all blocks updated), %d cut inside a block, "
                + "%d runs finished first%n", kills, rounds, midWrite, mixedBlocks, finishedFirst);
        assertTrue(kills >= KILLS, "enough kills landed: " + kills);
        assertTrue(midWrite >= KILLS / 3, "enough kills landed mid-write: " + midWrite);
    }

    /** Polls OUTPUT's mtime until it changes; ms since the start, or -1 if the process ended first. */
    private static long awaitMtimeChange(Path output, ForkedCli cli) throws IOException, InterruptedException {
        FileTime t0 = Files.getLastModifiedTime(output);
        while (cli.process().isAlive()) {
            if (!Files.getLastModifiedTime(output).equals(t0)) {
                return cli.millisSinceStart();
            }
            Thread.sleep(1);
        }
        return -1;
    }

    @Test
    void freshOutputKilledIsAbsentUntilComplete() throws Exception {
        Random random = new Random(seed());
        Path slot = Files.createDirectories(dir.resolve("fresh"));
        Path output = slot.resolve("out.img");
        Pattern temp = Pattern.compile("\\.out\\.img\\.\\d+\\.tmp");

        long tempSeen;
        long total;
        try (ForkedCli cli = extract(output)) {
            tempSeen = awaitTemp(slot, cli);
            assertEquals(0, cli.await(60), cli.stderrText());
            total = cli.millisSinceStart();
        }
        assertArrayEquals(v2, Files.readAllBytes(output));
        assertEquals(List.of("out.img"), listing(slot));
        System.out.printf("undisturbed fresh extract: temp file after %d ms, exit after %d ms%n", tempSeen, total);
        Files.delete(output);

        int kills = 0;
        int partialTemps = 0;
        for (int attempt = 0; kills < FRESH_KILLS && attempt < 3 * FRESH_KILLS; attempt++) {
            String killedTemp;
            try (ForkedCli cli = extract(output)) {
                killedTemp = ".out.img." + cli.process().pid() + ".tmp";
                if (awaitTemp(slot, cli) >= 0) {
                    Thread.sleep(random.nextLong(Math.max(1, total - tempSeen)));
                }
                if (!cli.kill()) {
                    assertEquals(0, cli.process().exitValue(), cli.stderrText());
                    assertArrayEquals(v2, Files.readAllBytes(output));
                    Files.delete(output);
                    continue;
                }
            }
            kills++;
            for (String name : listing(slot)) {
                if (name.equals("out.img")) {
                    // Killed after the rename: complete.
                    assertArrayEquals(v2, Files.readAllBytes(output), "OUTPUT under its final name is complete");
                    Files.delete(output);
                } else {
                    assertTrue(temp.matcher(name).matches(), "a leftover cannot be taken for OUTPUT: " + name);
                    if (name.equals(killedTemp) && Files.size(slot.resolve(name)) < IMAGE_SIZE) {
                        partialTemps++;
                    }
                }
            }
        }
        System.out.printf("fresh: %d kills, leftovers %s (%d partial)%n", kills, listing(slot), partialTemps);
        assertTrue(kills >= FRESH_KILLS, "enough kills landed: " + kills);
        assertTrue(partialTemps > 0, "some kills landed mid-write");

        Completed r = extractToEnd(output);
        assertEquals(0, r.code, r.err);
        assertArrayEquals(v2, Files.readAllBytes(output), "the rerun completes");
        assertEquals(List.of("out.img"), listing(slot), "the rerun removes temp files of killed runs");
    }

    /** Polls for extract's temp file; ms since the start, or -1 if the process ended first. */
    private static long awaitTemp(Path slot, ForkedCli cli) throws IOException, InterruptedException {
        String mine = ".out.img." + cli.process().pid() + ".tmp";
        while (cli.process().isAlive()) {
            if (Files.exists(slot.resolve(mine))) {
                return cli.millisSinceStart();
            }
            Thread.sleep(1);
        }
        return -1;
    }

    /**
     * A leftover temp file under this very process id (after a reboot, a boot script's
     * extract often gets the same pid as the one that was killed) must not block the
     * extract.
     */
    @Test
    void aLeftoverTempFileWithOurPidDoesNotBlockAFreshExtract() throws IOException {
        Path slot = Files.createDirectories(dir.resolve("samepid"));
        Path output = slot.resolve("out.img");
        Files.write(slot.resolve(".out.img." + ProcessHandle.current().pid() + ".tmp"), new byte[12345]);
        inProcess("extract", release.toString(), output.toString());
        assertArrayEquals(v2, Files.readAllBytes(output));
        assertEquals(List.of("out.img"), listing(slot));
        assertFalse(Files.exists(slot.resolve(".out.img." + ProcessHandle.current().pid() + ".tmp")));
    }
}
