package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.SampleImages;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ls, gc, verify, extract and diff on a store made by the clone command. */
class LifecycleCommandsTest {
    @TempDir
    Path dir;
    Path store;
    byte[] v1;
    byte[] v2;

    record Result(int code, String out, String err) {
    }

    static Result ihop(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeEach
    void makeStore() throws IOException {
        store = dir.resolve("store");
        v1 = SampleImages.image(21, 2_000_000);
        v2 = SampleImages.nextRelease(v1, 22);
        Files.write(dir.resolve("v1.img"), v1);
        Files.write(dir.resolve("v2.img"), v2);
        for (String v : new String[] {"v1", "v2"}) {
            Result r = ihop("compress", "--avg-chunk-size", "16KiB", "--min-chunk-size", "4KiB", "--max-chunk-size", "128KiB",
                    "--compression", "zstd", "-i", dir.resolve(v + ".img").toString(), dir.resolve(v + ".cba").toString());
            assertEquals(0, r.code(), r.err());
            r = ihop("clone", dir.resolve(v + ".cba").toString(), store.resolve(v).toString());
            assertEquals(0, r.code(), r.err());
        }
    }

    @Test
    void lsListsReleasesAndTotals() {
        Result r = ihop("ls", store.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("v1 ")) && r.out().lines().anyMatch(l -> l.startsWith("v2 ")), r.out());
        assertTrue(r.out().contains("2 releases,") && r.out().contains("dedup ratio"), r.out());
        Result json = ihop("ls", "--json", store.toString());
        assertTrue(json.out().contains("\"image_size\": " + v1.length) && json.out().contains("\"image_size\": " + v2.length), json.out());
        assertTrue(json.out().contains("\"unreferenced_chunk_files\": 0"), json.out());
    }

    @Test
    void missingStoreIsOneClearLine() {
        for (String command : new String[] {"ls", "gc"}) {
            Result r = ihop(command, dir.resolve("nope").toString());
            assertEquals(ErrorHandler.FAILURE, r.code());
            assertEquals("ihop: no such store: " + dir.resolve("nope"), r.err().strip());
        }
    }

    @Test
    void gcAfterRemovingAReleaseFreesItsChunks() throws IOException {
        Files.delete(store.resolve("v1"));
        Result dry = ihop("gc", "--dry-run", store.toString());
        assertTrue(dry.out().contains("would free"), dry.out());
        long before = chunkFiles();
        Result r = ihop("gc", "--list", store.toString());
        assertEquals(0, r.code(), r.err());
        long deleted = r.out().lines().filter(l -> l.startsWith("deleted ")).count();
        assertTrue(deleted > 0);
        assertEquals(before - deleted, chunkFiles());
        assertEquals(0, ihop("verify", store.resolve("v2").toString()).code());
    }

    @Test
    void badDictionaryChecksumIsExitTwo() throws IOException {
        Path v1 = store.resolve("v1");
        byte[] bytes = Files.readAllBytes(v1);
        bytes[30] ^= 1;
        Files.write(v1, bytes);
        for (String[] args : new String[][] {{"gc", store.toString()}, {"ls", store.toString()}, {"verify", v1.toString()}}) {
            Result r = ihop(args);
            assertEquals(ErrorHandler.BAD_INPUT, r.code(), args[0]);
            assertEquals("ihop: " + v1 + ": checksum mismatch: the release dictionary is corrupt", r.err().strip());
        }
    }

    @Test
    void verifyNamesAFlippedChunkAndRepairRestoresIt() throws IOException {
        Path chunk = firstChunkFile();
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[1] ^= 0x20;
        Files.write(chunk, bytes);
        String hash = chunk.getFileName().toString().replace(".chunk", "");
        Path release = usesChunk(hash);
        Result r = ihop("verify", release.toString());
        assertEquals(VerifyCommand.DAMAGED, r.code());
        assertTrue(r.out().contains("chunk " + hash) && r.out().contains("wrong content") && r.out().contains("DAMAGED"), r.out());

        Result extract = ihop("extract", release.toString(), dir.resolve("out.img").toString());
        assertEquals(ErrorHandler.BAD_INPUT, extract.code());
        assertTrue(extract.err().contains("chunk " + hash + " has the wrong content"), extract.err());

        Result repaired = ihop("verify", release.toString(), "--repair", dir.resolve(release.getFileName() + ".cba").toString());
        assertEquals(0, repaired.code(), repaired.out() + repaired.err());
        assertTrue(repaired.out().contains("fetched 1 chunks") && repaired.out().contains(": ok,"), repaired.out());
    }

    @Test
    void extractWithAMissingChunkNamesIt() throws IOException {
        Path chunk = firstChunkFile();
        Files.delete(chunk);
        String hash = chunk.getFileName().toString().replace(".chunk", "");
        Result r = ihop("extract", usesChunk(hash).toString(), dir.resolve("out.img").toString());
        assertEquals(ErrorHandler.FAILURE, r.code());
        assertTrue(r.err().startsWith("ihop: ") && r.err().contains("chunk " + hash) && r.err().contains("missing from the store"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace");
    }

    @Test
    void extractFreshThenInPlace() throws IOException {
        Path out = dir.resolve("slot");
        Result r = ihop("extract", store.resolve("v2").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(v2, Files.readAllBytes(out));
        byte[] changed = v2.clone();
        changed[1000] ^= 1;
        Files.write(out, changed);
        r = ihop("extract", store.resolve("v2").toString(), out.toString());
        assertTrue(r.out().contains("in place: wrote 1 of " + ((v2.length + 65535) / 65536) + " blocks"), r.out());
        assertArrayEquals(v2, Files.readAllBytes(out));
    }

    @Test
    void diffOfImageArchiveAndRelease() {
        Result r = ihop("diff", dir.resolve("v1.img").toString(), dir.resolve("v2.cba").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("A: image") && r.out().contains("B: archive") && r.out().contains("download A -> B"), r.out());
        Result releases = ihop("diff", "--json", store.resolve("v1").toString(), store.resolve("v2").toString());
        assertEquals(0, releases.code(), releases.err());
        Result archives = ihop("diff", "--json", dir.resolve("v1.cba").toString(), dir.resolve("v2.cba").toString());
        assertEquals(field(releases.out(), "shared_bytes"), field(archives.out(), "shared_bytes"));
        assertEquals(field(releases.out(), "new_bytes"), field(archives.out(), "new_bytes"));
        assertEquals(ErrorHandler.FAILURE, ihop("diff", "nope", dir.resolve("v2.cba").toString()).code());
    }

    private static String field(String json, String name) {
        return json.lines().filter(l -> l.trim().startsWith("\"" + name + "\"")).findFirst().orElseThrow();
    }

    private long chunkFiles() throws IOException {
        try (Stream<Path> s = Files.walk(store.resolve("chunks"))) {
            return s.filter(p -> p.toString().endsWith(".chunk")).count();
        }
    }

    private Path firstChunkFile() throws IOException {
        try (Stream<Path> s = Files.walk(store.resolve("chunks"))) {
            return s.filter(p -> p.toString().endsWith(".chunk")).sorted().findFirst().orElseThrow();
        }
    }

    /** A release whose dictionary names the chunk (v1 or v2). */
    private Path usesChunk(String hash) throws IOException {
        for (String v : new String[] {"v1", "v2"}) {
            var d = dev.ihop.store.StoreDictionaryCodec.read(store.resolve(v));
            if (d.chunks().stream().anyMatch(c -> c.checksum().hex().equals(hash))) {
                return store.resolve(v);
            }
        }
        throw new AssertionError(hash);
    }
}
