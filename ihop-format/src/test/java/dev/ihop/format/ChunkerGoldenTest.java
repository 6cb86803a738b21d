package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Boundaries must equal those of bita, as recorded in the golden files. */
class ChunkerGoldenTest {

    static Stream<Arguments> goldenFiles() throws IOException {
        try (Stream<java.nio.file.Path> files = Files.list(TestData.bita("golden"))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sums")).sorted()
                    .flatMap(n -> Stream.of(Arguments.of(n, 1 << 20), Arguments.of(n, 1), Arguments.of(n, 7777)))
                    .toList().stream();
        }
    }

    static ChunkerConfig configFor(String name) {
        String[] f = name.replace(".sums", "").split("_");
        if (f[0].equals("fixed")) {
            return ChunkerConfig.fixed(Integer.parseInt(f[2]));
        }
        var algorithm = f[0].equals("rollsum") ? ChunkerConfig.Algorithm.ROLLSUM : ChunkerConfig.Algorithm.BUZHASH;
        return ChunkerConfig.rolling(algorithm, Integer.parseInt(f[2]), Integer.parseInt(f[3]), Integer.parseInt(f[4]), Integer.parseInt(f[5]));
    }

    @ParameterizedTest(name = "{0} read {1} bytes at a time")
    @MethodSource("goldenFiles")
    void reproducesGoldenBoundaries(String name, int piece) throws IOException {
        String source = name.split("_")[1] + ".img";
        byte[] expected = Files.readAllBytes(TestData.bita("golden/" + name));
        ByteArrayOutputStream actual = new ByteArrayOutputStream();
        long total = 0;
        try (InputStream in = Files.newInputStream(TestData.bita(source))) {
            ChunkReader reader = new ChunkReader(in, configFor(name).newChunker(), piece);
            for (ChunkReader.Chunk c; (c = reader.next()) != null; ) {
                assertEquals(total, c.offset());
                total += c.length();
                actual.write(Arrays.copyOf(Blake2b.of(c.data(), 0, c.length()), 16));
            }
        }
        assertEquals(1 << 20, total);
        assertEquals(expected.length / 16, actual.size() / 16, "chunk count");
        assertArrayEquals(expected, actual.toByteArray());
    }
}
