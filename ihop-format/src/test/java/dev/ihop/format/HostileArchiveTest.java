package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damaged and hostile archives are refused with one clear line, before any large allocation. */
class HostileArchiveTest {
    @TempDir
    Path dir;
    byte[] good;
    int headerSize;

    @BeforeEach
    void makeArchive() throws IOException {
        Path a = dir.resolve("good.cba");
        new ArchiveWriter(new ArchiveWriter.Options(ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 4096, 1024, 16384, 64),
                64, Compression.of(Compression.Type.ZSTD), Map.of("k", new byte[] {1}), "t", 2))
                .write(new ByteArrayInputStream(SampleImages.image(1, 200_000)), a, false, n -> { });
        good = Files.readAllBytes(a);
        try (Archive archive = Archive.open(new FileArchiveSource(a))) {
            headerSize = archive.header().size();
        }
    }

    private MalformedInputException refused(byte[] bytes) throws IOException {
        Path p = dir.resolve("bad.cba");
        Files.write(p, bytes);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> {
            try (Archive a = Archive.open(new FileArchiveSource(p))) {
                ByteArrayOutputStreamSink.drain(a);
            }
        });
        assertTrue(e.getMessage().startsWith(p.toString()), "message names the file: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void wrongMagic() throws IOException {
        byte[] b = good.clone();
        b[1] ^= 0x20;
        assertTrue(refused(b).getMessage().contains("not a bita archive"));
    }

    @Test
    void everyTruncationOfTheHeader() throws IOException {
        for (int len = 0; len < headerSize; len += 7) {
            refused(Arrays.copyOf(good, len));
        }
    }

    @Test
    void everyFlippedHeaderByte() throws IOException {
        for (int i = 0; i < headerSize; i++) {
            byte[] b = good.clone();
            b[i] ^= 0x01;
            refused(b);
        }
    }

    @Test
    void absurdDictionaryLengths() throws IOException {
        for (long n : new long[] {1L << 62, -1L, Long.MAX_VALUE, 1L << 31, good.length}) {
            byte[] b = good.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(6, n);
            assertTrue(refused(b).getMessage().contains("dictionary length"));
        }
    }

    @Test
    void flippedChunkDataIsCaughtByTheHash() throws IOException {
        byte[] b = good.clone();
        b[b.length - 10] ^= 0x40;
        refused(b);
    }

    /** Reads every chunk so corruption in chunk data surfaces. */
    static final class ByteArrayOutputStreamSink {
        static void drain(Archive a) throws IOException {
            a.extractTo(java.io.OutputStream.nullOutputStream());
        }
    }
}
