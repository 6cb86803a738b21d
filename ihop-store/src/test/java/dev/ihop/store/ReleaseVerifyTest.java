package dev.ihop.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.Archive;
import dev.ihop.format.ChunkDescriptor;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.format.HashSum;
import dev.ihop.format.MalformedInputException;
import dev.ihop.remote.HttpArchiveSource;
import dev.ihop.remote.HttpOptions;
import dev.ihop.remote.NginxServer;
import dev.ihop.remote.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseVerifyTest {
    @TempDir
    Path dir;
    StoreFixture f;
    Path v1;
    StoreDictionary d;

    @BeforeEach
    void setUp() throws IOException {
        f = new StoreFixture(dir);
        v1 = f.clone("v1");
        d = StoreDictionaryCodec.read(v1);
    }

    @Test
    void intactReleaseVerifies() throws IOException {
        ReleaseVerify.Report r = ReleaseVerify.run(v1, 2, ReleaseClone.SILENT);
        assertTrue(r.ok());
        assertEquals(d.sourceOrder().length, r.chunks());
        assertEquals(f.v1.length, r.imageSize());
    }

    /** A flipped byte, a deleted chunk file and a truncated one are each named; repair over HTTP fetches exactly them. */
    @Test
    void namesEachBadChunkAndRepairFetchesExactlyThose() throws IOException {
        long[] offsets = d.chunkOffsets();
        HashSum flipped = d.chunks().get(d.sourceOrder()[5]).checksum();
        HashSum deleted = d.chunks().get(d.sourceOrder()[17]).checksum();
        HashSum truncated = d.chunks().get(d.sourceOrder()[30]).checksum();
        byte[] bytes = Files.readAllBytes(f.chunkPath(flipped));
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(f.chunkPath(flipped), bytes);
        Files.delete(f.chunkPath(deleted));
        Files.write(f.chunkPath(truncated), new byte[10]);

        ReleaseVerify.Report r = ReleaseVerify.run(v1, 2, ReleaseClone.SILENT);
        assertTrue(!r.ok());
        assertNull(r.imageMatches(), "the image is not judged while chunks are bad");
        Map<HashSum, ReleaseVerify.BadChunk> bad = r.bad().stream().collect(Collectors.toMap(ReleaseVerify.BadChunk::hash, b -> b));
        assertEquals(Set.of(flipped, deleted, truncated), bad.keySet());
        assertEquals(ReleaseVerify.Problem.WRONG_CONTENT, bad.get(flipped).problem());
        assertEquals(ReleaseVerify.Problem.MISSING, bad.get(deleted).problem());
        assertEquals(ReleaseVerify.Problem.WRONG_SIZE, bad.get(truncated).problem());
        assertEquals(offsets[firstPosition(flipped)], bad.get(flipped).imageOffset());
        assertEquals(offsets[firstPosition(deleted)], bad.get(deleted).imageOffset());

        Tools.require("nginx");
        long expected;
        try (Archive a = Archive.open(new FileArchiveSource(f.www.resolve("v1.cba")))) {
            expected = a.header().size();
            for (ChunkDescriptor c : a.dictionary().descriptors()) {
                if (bad.containsKey(c.checksum())) {
                    expected += c.archiveSize();
                }
            }
        }
        try (NginxServer nginx = NginxServer.start(f.www);
             Archive a = Archive.open(new HttpArchiveSource(nginx.uri("/v1.cba"), HttpOptions.defaults()))) {
            ReleaseVerify.Repair repair = ReleaseVerify.repair(r, a, 2, ReleaseClone.SILENT);
            assertEquals(3, repair.chunks());
            assertTrue(repair.after().ok(), "verified again after repair: " + repair.after());
            long served = nginx.awaitAccessLog(2, Duration.ofSeconds(5)).stream()
                    .mapToLong(NginxServer.AccessLogEntry::bodyBytesSent).sum();
            // The size probe is one byte; three separate ranges are not merged unless within 4 KiB.
            assertTrue(served >= expected && served <= expected + 1 + 3 * 4096,
                    "nginx served " + served + " bytes; header + the three chunks = " + expected);
        }
        assertArrayEquals(f.v1, IndependentStoreReader.rebuild(v1));
    }

    @Test
    void repairFromAnArchiveWithoutTheChunkSaysSo() throws IOException {
        HashSum victim = d.chunks().get(d.sourceOrder()[3]).checksum();
        Files.delete(f.chunkPath(victim));
        ReleaseVerify.Report r = ReleaseVerify.run(v1, 2, ReleaseClone.SILENT);
        try (Archive other = Archive.open(new FileArchiveSource(f.www.resolve("v0.cba")))) {
            IOException e = assertThrows(IOException.class, () -> ReleaseVerify.repair(r, other, 2, ReleaseClone.SILENT));
            assertTrue(e.getMessage().contains("does not contain chunk " + victim.hex()), e.getMessage());
        }
    }

    @Test
    void aDictionaryWithABadChecksumIsMalformed() throws IOException {
        byte[] bytes = Files.readAllBytes(v1);
        bytes[bytes.length - 1] ^= 1;
        Files.write(v1, bytes);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> ReleaseVerify.run(v1, 2, ReleaseClone.SILENT));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    private int firstPosition(HashSum h) {
        List<StoreDictionary.StoreChunk> chunks = d.chunks();
        for (int i = 0; i < d.sourceOrder().length; i++) {
            if (chunks.get(d.sourceOrder()[i]).checksum().equals(h)) {
                return i;
            }
        }
        throw new AssertionError();
    }
}
