package dev.ihop.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.Archive;
import dev.ihop.format.ChunkDescriptor;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.format.HashSum;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreUsageAndDiffTest {
    @TempDir
    Path dir;
    StoreFixture f;

    @BeforeEach
    void setUp() throws IOException {
        f = new StoreFixture(dir);
        f.clone("v1");
        f.clone("v2");
    }

    @Test
    void usageSplitsSharedAndExclusiveBytes() throws IOException {
        Map<HashSum, Integer> sizes = new HashMap<>();
        for (String r : new String[] {"v1", "v2"}) {
            StoreDictionaryCodec.read(f.store.resolve(r)).chunks().forEach(c -> sizes.put(c.checksum(), c.sourceSize()));
        }
        Set<HashSum> v1 = f.chunksOf("v1");
        Set<HashSum> v2 = f.chunksOf("v2");
        long shared = 0;
        for (HashSum h : v1) {
            if (v2.contains(h)) {
                shared += sizes.get(h);
            }
        }
        long onlyV1 = v1.stream().mapToLong(sizes::get).sum() - shared;
        StoreUsage.Summary s = StoreUsage.of(f.store);
        assertEquals(2, s.releases().size());
        StoreUsage.Release r1 = s.releases().get(0);
        assertEquals("v1", r1.file().getFileName().toString());
        assertEquals(f.v1.length, r1.imageSize());
        assertEquals(shared, r1.sharedBytes());
        assertEquals(onlyV1, r1.exclusiveBytes());
        assertEquals(shared, s.releases().get(1).sharedBytes());
        assertEquals(sizes.size(), s.chunkFiles());
        assertEquals(sizes.values().stream().mapToLong(Integer::longValue).sum(), s.chunkBytes());
        assertEquals((double) (f.v1.length + f.v2.length) / s.chunkBytes(), s.dedupRatio(), 1e-9);
        assertTrue(s.dedupRatio() > 1.5, "v1 and v2 share most chunks");
        assertEquals(0, s.unreferencedFiles());

        Files.delete(f.store.resolve("v1"));
        Files.delete(f.chunkPath(v2.iterator().next()));
        s = StoreUsage.of(f.store);
        assertEquals(v2.size(), s.releases().get(0).uniqueChunks());
        assertEquals(0, s.releases().get(0).sharedBytes(), "nothing is shared once v1 is gone");
        assertEquals(v1.stream().filter(h -> !v2.contains(h)).count(), s.unreferencedFiles());
        assertEquals(onlyV1, s.unreferencedBytes());
        assertEquals(1, s.releases().get(0).missingChunks());
    }

    @Test
    void usageOfAMissingStoreIsAClearError() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> StoreUsage.of(dir.resolve("nope")));
        assertEquals("no such store", e.getReason());
    }

    @Test
    void diffOfArchivesReleasesAndImagesAgree() throws IOException {
        ChunkDiff archives;
        ImageChunks a1;
        ImageChunks a2;
        try (Archive x = Archive.open(new FileArchiveSource(f.www.resolve("v1.cba")));
             Archive y = Archive.open(new FileArchiveSource(f.www.resolve("v2.cba")))) {
            a1 = ImageChunks.of(x);
            a2 = ImageChunks.of(y);
            archives = ChunkDiff.of(a1, a2);
            Set<HashSum> inV1 = new HashSet<>();
            x.dictionary().descriptors().forEach(c -> inV1.add(c.checksum()));
            long download = y.header().size();
            int fresh = 0;
            for (ChunkDescriptor c : y.dictionary().descriptors()) {
                if (!inV1.contains(c.checksum())) {
                    download += c.archiveSize();
                    fresh++;
                }
            }
            assertEquals(fresh, archives.newChunks());
            assertEquals(download, archives.downloadBytes());
            assertEquals(y.dictionary().descriptors().size() - fresh, archives.sharedChunks());
        }
        assertTrue(archives.sameChunker());
        assertTrue(archives.sharedBytes() > archives.newBytes() && archives.newChunks() > 0,
                "mostly shared: " + archives.sharedBytes() + " shared, " + archives.newBytes() + " new");
        assertEquals(a2.uniqueBytes(), archives.sharedBytes() + archives.newBytes());

        ChunkDiff releases = ChunkDiff.of(ImageChunks.of(f.store.resolve("v1"), StoreDictionaryCodec.read(f.store.resolve("v1"))),
                ImageChunks.of(f.store.resolve("v2"), StoreDictionaryCodec.read(f.store.resolve("v2"))));
        assertEquals(archives.sharedBytes(), releases.sharedBytes());
        assertEquals(archives.newBytes(), releases.newBytes());
        assertEquals(archives.newBytes(), releases.downloadBytes(), "without an archive the download is the new chunks' plain size");

        // The image cut with B's chunker finds the same chunks as the archive.
        ImageChunks image = ImageChunks.ofImage("v1.img", new ByteArrayInputStream(f.v1), a2.chunker(), a2.hashLength());
        ChunkDiff fromImage = ChunkDiff.of(image, a2);
        assertEquals(archives.sharedChunks(), fromImage.sharedChunks());
        assertEquals(archives.downloadBytes(), fromImage.downloadBytes());
        assertEquals(a1.unique().keySet(), image.unique().keySet());

        // A different chunker: flagged, and little matches.
        ImageChunks fixed = ImageChunks.ofImage("v1.img", new ByteArrayInputStream(f.v1), ChunkerConfig.fixed(4096), 32);
        ChunkDiff mismatched = ChunkDiff.of(fixed, a2);
        assertTrue(!mismatched.sameChunker());
        assertTrue(mismatched.sharedBytes() < archives.sharedBytes() / 2);
    }
}
