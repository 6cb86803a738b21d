package dev.ihop.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ihop.format.HashSum;
import dev.ihop.format.MalformedInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseExtractTest {
    static final int BLOCK = ReleaseExtract.DEFAULT_BLOCK_SIZE;
    @TempDir
    Path dir;
    StoreFixture f;
    Path v2;

    @BeforeEach
    void setUp() throws IOException {
        f = new StoreFixture(dir);
        v2 = f.clone("v2");
    }

    @Test
    void freshFileAndStreamAreBitExact() throws IOException {
        Path out = dir.resolve("out.img");
        ReleaseExtract.Summary s = ReleaseExtract.toFile(v2, out, false, BLOCK, ReleaseClone.SILENT);
        assertArrayEquals(f.v2, Files.readAllBytes(out));
        assertFalse(s.inPlace());
        assertEquals(f.v2.length, s.bytesWritten());
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        ReleaseExtract.toStream(v2, stream, ReleaseClone.SILENT);
        assertArrayEquals(f.v2, stream.toByteArray());
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }
    }

    /** The B slot holds the previous release (v1, cut to v2's size): only blocks that differ are written. */
    @Test
    void inPlaceWritesOnlyTheBlocksThatDiffer() throws IOException {
        Path slot = dir.resolve("slot-b");
        byte[] old = Arrays.copyOf(f.v1, f.v2.length);
        Files.write(slot, old);
        long total = (f.v2.length + BLOCK - 1) / BLOCK;
        long differing = 0;
        for (long b = 0; b < total; b++) {
            int from = (int) (b * BLOCK);
            int to = Math.min(f.v2.length, from + BLOCK);
            if (!Arrays.equals(old, from, to, f.v2, from, to)) {
                differing++;
            }
        }
        ReleaseExtract.Summary s = ReleaseExtract.toFile(v2, slot, false, BLOCK, ReleaseClone.SILENT);
        assertTrue(s.inPlace());
        assertEquals(total, s.blocks());
        assertEquals(differing, s.blocksWritten());
        assertArrayEquals(f.v2, Files.readAllBytes(slot));
        System.out.printf("in place over v1: wrote %d of %d blocks (%d bytes of %d)%n", s.blocksWritten(), s.blocks(),
                s.bytesWritten(), f.v2.length);

        // A few flipped bytes: one block each, one straddling a block boundary counts two.
        byte[] damaged = f.v2.clone();
        damaged[10] ^= 1;
        damaged[5 * BLOCK + 7] ^= 1;
        damaged[20 * BLOCK - 1] ^= 1;
        damaged[20 * BLOCK] ^= 1;
        Files.write(slot, damaged);
        s = ReleaseExtract.toFile(v2, slot, false, BLOCK, ReleaseClone.SILENT);
        assertEquals(4, s.blocksWritten());
        assertEquals(4L * BLOCK, s.bytesWritten());
        assertArrayEquals(f.v2, Files.readAllBytes(slot));

        s = ReleaseExtract.toFile(v2, slot, false, BLOCK, ReleaseClone.SILENT);
        assertEquals(0, s.blocksWritten(), "an up-to-date slot is not written at all");
    }

    @Test
    void anExistingFileOfAnotherSizeNeedsReplace() throws IOException {
        Path out = dir.resolve("out.img");
        Files.write(out, new byte[100]);
        assertThrows(FileAlreadyExistsException.class, () -> ReleaseExtract.toFile(v2, out, false, BLOCK, ReleaseClone.SILENT));
        assertEquals(100, Files.size(out));
        ReleaseExtract.toFile(v2, out, true, BLOCK, ReleaseClone.SILENT);
        assertArrayEquals(f.v2, Files.readAllBytes(out));
    }

    @Test
    void missingOrCorruptChunkFailsNamingItAndLeavesNoOutput() throws IOException {
        StoreDictionary d = StoreDictionaryCodec.read(v2);
        HashSum missing = d.chunks().get(d.sourceOrder()[8]).checksum();
        byte[] saved = Files.readAllBytes(f.chunkPath(missing));
        Files.delete(f.chunkPath(missing));
        Path out = dir.resolve("out.img");
        IOException e = assertThrows(IOException.class, () -> ReleaseExtract.toFile(v2, out, false, BLOCK, ReleaseClone.SILENT));
        assertTrue(e.getMessage().contains("chunk " + missing.hex()) && e.getMessage().contains("missing"), e.getMessage());
        assertFalse(Files.exists(out));

        Files.write(f.chunkPath(missing), saved);

        HashSum corrupt = d.chunks().get(d.sourceOrder()[20]).checksum();
        byte[] bytes = Files.readAllBytes(f.chunkPath(corrupt));
        bytes[0] ^= 0x40;
        Files.write(f.chunkPath(corrupt), bytes);
        MalformedInputException m = assertThrows(MalformedInputException.class,
                () -> ReleaseExtract.toFile(v2, out, false, BLOCK, ReleaseClone.SILENT));
        assertTrue(m.getMessage().contains("chunk " + corrupt.hex() + " has the wrong content"), m.getMessage());
        assertFalse(Files.exists(out));
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        assertThrows(MalformedInputException.class, () -> ReleaseExtract.toStream(v2, stream, ReleaseClone.SILENT));
        assertTrue(stream.size() < f.v2.length, "the stream stops before the bad chunk");
    }
}
