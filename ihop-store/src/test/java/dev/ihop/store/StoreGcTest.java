package dev.ihop.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.HashSum;
import dev.ihop.format.MalformedInputException;
import dev.ihop.remote.NginxServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreGcTest {
    @TempDir
    Path dir;
    StoreFixture f;

    @BeforeEach
    void setUp() throws IOException {
        f = new StoreFixture(dir);
    }

    @Test
    void afterAReleaseIsRemovedExactlyItsUnsharedChunksAndLeftoverTempsGo() throws IOException {
        f.clone("v1");
        f.clone("v2");
        Set<HashSum> v1 = f.chunksOf("v1");
        Set<HashSum> v2 = f.chunksOf("v2");
        Files.delete(f.store.resolve("v1"));
        // Leftovers of a crashed clone: a chunk temp and a release temp.
        Path chunkTemp = f.chunkPath(v2.iterator().next()).resolveSibling(".deadbeef.chunk.999.1.tmp");
        Files.write(chunkTemp, new byte[123]);
        Path releaseTemp = f.store.resolve(".v3.999.tmp");
        Files.write(releaseTemp, new byte[45]);

        Set<String> expected = new TreeSet<>();
        long expectedBytes = 0;
        for (HashSum h : v1) {
            if (!v2.contains(h)) {
                expected.add(f.store.relativize(f.chunkPath(h)).toString());
                expectedBytes += Files.size(f.chunkPath(h));
            }
        }
        assertTrue(expected.size() > 5 && expected.size() < v1.size(), "v1 has chunks of its own and shared ones: " + expected.size());
        Set<String> before = f.files();

        StoreGc.Summary dry = StoreGc.run(f.store, true, false);
        assertEquals(before, f.files(), "a dry run deletes nothing");
        assertEquals(expected.size(), dry.deletedChunkFiles());
        assertEquals(expectedBytes, dry.deletedChunkBytes());

        StoreGc.Summary s = StoreGc.run(f.store, false, false);
        Set<String> gone = new TreeSet<>(before);
        gone.removeAll(f.files());
        expected.add(f.store.relativize(chunkTemp).toString());
        expected.add(f.store.relativize(releaseTemp).toString());
        assertEquals(expected, gone, "exactly the unreferenced chunks and the temp files are deleted");
        assertEquals(1, s.releases());
        assertEquals(2, s.deletedTempFiles());
        assertEquals(168, s.deletedTempBytes());
        assertEquals(v2.size(), s.keptChunkFiles());
        assertEquals(expectedBytes + 168, s.freedBytes());
        assertArrayEquals(f.v2, IndependentStoreReader.rebuild(f.store.resolve("v2")));
        assertTrue(Files.exists(f.store.resolve(StoreLock.LOCK_FILE)), "the lock file stays");
        // No empty chunk directories are left.
        try (var dirs = Files.list(f.store.resolve("chunks"))) {
            for (Path d : dirs.toList()) {
                try (var in = Files.list(d)) {
                    assertTrue(in.findAny().isPresent(), "empty directory left: " + d);
                }
            }
        }

        assertEquals(0, StoreGc.run(f.store, false, false).freedBytes(), "a second gc has nothing to do");
    }

    @Test
    void aReleaseWithABadChecksumStopsGcBeforeAnythingIsDeleted() throws IOException {
        f.clone("v1");
        f.clone("v0");
        Files.delete(f.store.resolve("v0"));
        Path v1 = f.store.resolve("v1");
        byte[] bytes = Files.readAllBytes(v1);
        bytes[40] ^= 0x10;
        Files.write(v1, bytes);
        Set<String> before = f.files();
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> StoreGc.run(f.store, false, false));
        assertTrue(e.getMessage().contains(v1.toString()) && e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertEquals(before, f.files(), "nothing deleted");
    }

    @Test
    void aFileThatIsNotAReleaseStopsGc() throws IOException {
        f.clone("v1");
        Files.writeString(f.store.resolve("notes.txt"), "hello");
        Set<String> before = f.files();
        IOException e = assertThrows(IOException.class, () -> StoreGc.run(f.store, false, false));
        assertTrue(e.getMessage().contains("notes.txt is not a release dictionary"), e.getMessage());
        assertEquals(before, f.files());
    }

    @Test
    void missingStoreIsAClearError() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> StoreGc.run(dir.resolve("nope"), false, false));
        assertEquals("no such store", e.getReason());
        assertFalse(Files.exists(dir.resolve("nope")), "gc does not create the store");
    }

    @Test
    void gcRefusesWhileThisProcessHoldsTheStore() throws IOException {
        f.clone("v1");
        try (StoreLock lock = StoreLock.shared(f.store)) {
            assertThrows(StoreBusyException.class, () -> StoreGc.run(f.store, false, false));
        }
        StoreGc.run(f.store, false, false);
    }

    /**
     * A clone runs in another JVM, slowed by nginx's limit_rate; gc tries while it is
     * fetching (refused, naming the process), then waits for it. Nothing the clone needs
     * disappears; the orphans of a removed release do.
     */
    @Test
    void gcWithACloneInAnotherProcessNeverTakesWhatTheCloneNeeds() throws Exception {
        dev.ihop.remote.Tools.require("nginx");
        f.clone("v0");
        f.clone("v1");
        Set<HashSum> v0 = f.chunksOf("v0");
        Set<HashSum> v1 = f.chunksOf("v1");
        Files.delete(f.store.resolve("v0"));
        Set<String> beforeClone = f.files();

        try (NginxServer nginx = NginxServer.start(f.www, "limit_rate 40k;")) {
            String java = ProcessHandle.current().info().command().orElse("java");
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CloneProcess.class.getName(),
                    nginx.uri("/v2.cba").toString(), f.store.resolve("v2").toString())
                    .redirectErrorStream(true).start();
            List<String> childOutput = new ArrayList<>();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                // Wait until the child fetches, then until its first new chunk is on disk: it is mid-clone.
                for (String line; (line = out.readLine()) != null && !line.equals("fetching"); ) {
                    childOutput.add(line);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (f.files().equals(beforeClone) || onlyTemps(f.files(), beforeClone)) {
                    assertTrue(child.isAlive(), "child ended early: " + childOutput);
                    assertTrue(System.nanoTime() < deadline, "the clone wrote nothing in 30 s");
                    Thread.sleep(20);
                }
                assertTrue(child.isAlive(), "the clone must still be running for this test to mean anything");

                StoreBusyException busy = assertThrows(StoreBusyException.class, () -> StoreGc.run(f.store, false, false));
                assertTrue(busy.getMessage().contains("pid " + child.pid()), busy.getMessage());
                assertTrue(child.isAlive(), "gc refused while the clone was still running");

                StoreGc.Summary s = StoreGc.run(f.store, false, true);
                assertTrue(Files.exists(f.store.resolve("v2")), "gc waited until the clone had written its release");
                for (String line; (line = out.readLine()) != null; ) {
                    childOutput.add(line);
                }
                assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, child.exitValue(), "child output: " + childOutput);
                assertEquals("done", childOutput.getLast());

                Set<HashSum> v2 = f.chunksOf("v2");
                Set<HashSum> orphans = new HashSet<>(v0);
                orphans.removeAll(v1);
                orphans.removeAll(v2);
                assertEquals(orphans.size(), s.deletedChunkFiles(), "only v0's chunks that no live release uses go");
                for (HashSum h : orphans) {
                    assertFalse(Files.exists(f.chunkPath(h)));
                }
                assertEquals(0, s.deletedTempFiles(), "gc ran after the clone, which left no temp files");
            }
        }
        assertArrayEquals(f.v1, IndependentStoreReader.rebuild(f.store.resolve("v1")));
        assertArrayEquals(f.v2, IndependentStoreReader.rebuild(f.store.resolve("v2")));
    }

    private static boolean onlyTemps(Set<String> now, Set<String> before) {
        Set<String> added = new HashSet<>(now);
        added.removeAll(before);
        return added.stream().allMatch(p -> p.endsWith(".tmp"));
    }
}
