package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The archives written by bita itself decode to their documented sources. */
class BitaVectorsTest {

    @ParameterizedTest
    @CsvSource({
        "rand-0_1_1-none.cba, 262144, BUZHASH, NONE",
        "zero-0_1_1-lzma.cba, 134217728, BUZHASH, LZMA",
        "zero-0_1_1-zstd.cba, 134217728, BUZHASH, ZSTD",
        "zero-0_7_1-brotli.cba, 134217728, ROLLSUM, BROTLI",
    })
    void decodesToSourceChecksum(String name, long size, ChunkerConfig.Algorithm algorithm, Compression.Type compression)
            throws IOException {
        try (Archive archive = Archive.open(new FileArchiveSource(TestData.bita(name)))) {
            ArchiveDictionary d = archive.dictionary();
            assertEquals(size, d.sourceTotalSize());
            assertEquals(algorithm, d.chunkerConfig().algorithm());
            assertEquals(compression, d.compression().type());
            String expected = name.startsWith("rand") ? TestData.RANDOM_SOURCE_CHECKSUM : TestData.ZERO_SOURCE_CHECKSUM;
            assertEquals(expected, d.sourceChecksum().hex());
            Blake2b rebuilt = new Blake2b();
            long[] count = {0};
            archive.extractTo(new OutputStream() {
                @Override
                public void write(int b) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    rebuilt.update(b, off, len);
                    count[0] += len;
                }
            });
            assertEquals(size, count[0]);
            assertEquals(expected, rebuilt.sum().hex());
        }
    }

    @Test
    void blake2bMatchesRfc7693() {
        // RFC 7693 appendix A: BLAKE2b-512("abc").
        assertEquals("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
                HashSum.of(Blake2b.of("abc".getBytes(), 0, 3)).hex());
    }

    @Test
    void randomVectorIsTheDocumentedSource() throws IOException {
        byte[] random = Files.readAllBytes(TestData.bita("random.img"));
        assertArrayEquals(Blake2b.of(random, 0, random.length), Blake2b.of(random, 0, random.length));
        assertEquals(1 << 20, random.length);
    }
}
