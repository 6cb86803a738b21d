package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ArchiveRoundTripTest {
    @TempDir
    Path dir;

    static Stream<Arguments> configurations() {
        ChunkerConfig[] chunkers = {
            ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 8192, 2048, 65536, 64),
            ChunkerConfig.rolling(ChunkerConfig.Algorithm.BUZHASH, 8192, 2048, 65536, 16),
            ChunkerConfig.fixed(5000),
        };
        return Stream.of(chunkers).flatMap(c -> Stream.of(Compression.Type.values()).map(t -> Arguments.of(c, t)));
    }

    static ArchiveWriter.Options options(ChunkerConfig chunker, Compression compression) {
        return new ArchiveWriter.Options(chunker, 64, compression, Map.of("version", "1.2.3".getBytes()), "test", 3);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("configurations")
    void roundTrips(ChunkerConfig chunker, Compression.Type type) throws IOException {
        byte[] image = SampleImages.image(42, 1_500_000);
        Path out = dir.resolve("a.cba");
        ArchiveWriter.Summary summary = new ArchiveWriter(options(chunker, Compression.of(type)))
                .write(new ByteArrayInputStream(image), out, false, n -> { });
        assertEquals(image.length, summary.sourceSize());
        assertEquals(Files.size(out), summary.archiveSize());
        assertTrue(summary.uniqueChunks() < summary.chunks(), "duplicates are stored once");
        try (Archive archive = Archive.open(new FileArchiveSource(out))) {
            ArchiveDictionary d = archive.dictionary();
            assertEquals(chunker, d.chunkerConfig());
            assertEquals(type, d.compression().type());
            assertEquals(summary.headerChecksum(), archive.header().checksum());
            assertArrayEquals("1.2.3".getBytes(), d.metadata().get("version"));
            assertEquals(HashSum.of(Blake2b.of(image, 0, image.length)), d.sourceChecksum());
            ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
            archive.extractTo(rebuilt);
            assertArrayEquals(image, rebuilt.toByteArray());
            long offset = 0;
            for (ChunkDescriptor c : d.descriptors()) {
                assertEquals(offset, c.archiveOffset(), "chunk data is contiguous in descriptor order");
                offset += c.archiveSize();
                assertTrue(c.archiveSize() <= c.sourceSize(), "never stored larger than raw");
            }
            if (type != Compression.Type.NONE) {
                assertTrue(d.descriptors().stream().anyMatch(ChunkDescriptor::storedRaw), "random chunks are stored raw");
                assertTrue(d.descriptors().stream().anyMatch(c -> !c.storedRaw()), "compressible chunks are compressed");
            }
        }
    }

    @Test
    void outputIsDeterministicWhateverTheThreadCount() throws IOException {
        byte[] image = SampleImages.image(7, 3_000_000);
        ChunkerConfig chunker = ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 4096, 1024, 32768, 64);
        Path one = dir.resolve("one.cba");
        Path many = dir.resolve("many.cba");
        new ArchiveWriter(new ArchiveWriter.Options(chunker, 32, Compression.of(Compression.Type.ZSTD), Map.of(), "t", 1))
                .write(new ByteArrayInputStream(image), one, false, n -> { });
        new ArchiveWriter(new ArchiveWriter.Options(chunker, 32, Compression.of(Compression.Type.ZSTD), Map.of(), "t", 8))
                .write(new ByteArrayInputStream(image), many, false, n -> { });
        assertArrayEquals(Files.readAllBytes(one), Files.readAllBytes(many));
    }

    @Test
    void refusesToOverwriteWithoutForceAndLeavesNoTempFiles() throws IOException {
        Path out = dir.resolve("x.cba");
        Files.writeString(out, "precious");
        ArchiveWriter writer = new ArchiveWriter(options(ChunkerConfig.fixed(1000), Compression.of(Compression.Type.NONE)));
        assertThrows(FileAlreadyExistsException.class,
                () -> writer.write(new ByteArrayInputStream(new byte[10]), out, false, n -> { }));
        assertEquals("precious", Files.readString(out));
        writer.write(new ByteArrayInputStream(new byte[10_000]), out, true, n -> { });
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the archive remains");
        }
    }

    @Test
    void emptySourceMakesAValidArchive() throws IOException {
        Path out = dir.resolve("empty.cba");
        new ArchiveWriter(options(ChunkerConfig.bitaDefault(), Compression.bitaDefault()))
                .write(new ByteArrayInputStream(new byte[0]), out, false, n -> { });
        try (Archive archive = Archive.open(new FileArchiveSource(out))) {
            assertEquals(0, archive.dictionary().sourceTotalSize());
            assertEquals(0, archive.dictionary().rebuildOrder().length);
        }
    }
}
