package dev.ihop.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import dev.ihop.format.HostileBytes;
import dev.ihop.format.MalformedInputException;
import dev.ihop.format.Mutator;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes {@link StoreDictionaryCodec#read} with 20,000 seeded mutations of release files
 * (half re-checksummed so they reach the semantic checks). Every input is accepted and
 * round-trips, or is refused with {@link MalformedInputException} or {@link EOFException};
 * nothing else, and little allocation. Why a seeded mutator rather than Jazzer: see
 * {@code dev.ihop.format.ArchiveHeaderFuzzTest}.
 */
class StoreDictionaryFuzzTest {
    static final int ITERATIONS = Integer.getInteger("ihop.fuzzIterations", 20_000);

    @TempDir
    Path dir;

    private static byte[] seedFile(long seed, int hashLength, ChunkerConfig chunker) {
        Random random = new Random(seed);
        List<StoreDictionary.StoreChunk> chunks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            byte[] h = new byte[hashLength];
            random.nextBytes(h);
            chunks.add(new StoreDictionary.StoreChunk(HashSum.of(h), 1 + random.nextInt(chunker.maxSize())));
        }
        int[] order = new int[10];
        long total = 0;
        for (int i = 0; i < order.length; i++) {
            order[i] = random.nextInt(chunks.size());
            total += chunks.get(order[i]).sourceSize();
        }
        byte[] sum = new byte[64];
        random.nextBytes(sum);
        return StoreDictionaryCodec.encode(new StoreDictionary("fuzz", HashSum.of(sum), total, order, chunks, chunker, hashLength));
    }

    @Test
    void mutatedReleaseFilesAreAcceptedConsistentlyOrRefusedCleanly() throws IOException {
        long seed = Long.getLong("ihop.fuzzSeed", System.nanoTime());
        System.out.println("StoreDictionaryFuzzTest seed: " + seed + " (replay with -Dihop.fuzzSeed=" + seed + ")");
        Mutator mutator = new Mutator(seed);
        byte[][] corpus = {
            seedFile(1, 64, ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 4096, 1024, 16384, 64)),
            seedFile(2, 4, ChunkerConfig.fixed(1000)),
            seedFile(3, 32, ChunkerConfig.rolling(ChunkerConfig.Algorithm.BUZHASH, 65536, 16384, 16 << 20, 16)),
        };
        Path file = dir.resolve("release");
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] original = corpus[mutator.random().nextInt(corpus.length)];
            byte[] input = mutator.random().nextBoolean() ? mutator.mutate(original) : mutateDictionary(original, mutator);
            // Delete, not truncate: ext4 flushes a file truncated and rewritten on close (auto_da_alloc).
            Files.deleteIfExists(file);
            Files.write(file, input);
            HostileBytes.Measured m = HostileBytes.measure(() -> {
                StoreDictionary d = StoreDictionaryCodec.read(file);
                long sum = 0;
                for (int index : d.sourceOrder()) {
                    sum += d.chunks().get(index).sourceSize();
                    assertEquals(d.hashLength(), d.chunks().get(index).checksum().length());
                }
                assertEquals(d.sourceTotalSize(), sum);
                Path again = dir.resolve("again");
                Files.deleteIfExists(again);
                Files.write(again, StoreDictionaryCodec.encode(d));
                StoreDictionary back = StoreDictionaryCodec.read(again);
                assertArrayEquals(d.sourceOrder(), back.sourceOrder());
                assertEquals(d.chunks(), back.chunks());
            });
            Throwable t = m.thrown();
            if (t == null) {
                accepted++;
            } else if (t instanceof MalformedInputException || t instanceof EOFException) {
                refused++;
                assertTrue(!t.getMessage().contains("\n"), "one-line message: " + t.getMessage());
            } else {
                fail("iteration " + i + " (seed " + seed + "): " + t + "\ninput: " + HexFormat.of().formatHex(input), t);
            }
            assertTrue(m.allocatedBytes() < (4L << 20) + 64L * input.length,
                    "iteration " + i + " (seed " + seed + ") allocated " + m.allocatedBytes() + " bytes");
        }
        System.out.printf("store dictionary fuzz: %d inputs, %d accepted, %d refused%n", ITERATIONS, accepted, refused);
        assertTrue(accepted > 0 && refused > ITERATIONS / 2, "the mutations reach both outcomes: " + accepted + "/" + refused);
    }

    private static byte[] mutateDictionary(byte[] file, Mutator mutator) {
        int n = (int) ByteBuffer.wrap(file, 6, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] dict = mutator.mutate(Arrays.copyOfRange(file, 14, 14 + n));
        ByteBuffer b = ByteBuffer.allocate(14 + dict.length + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(StoreDictionaryCodec.MAGIC).putLong(dict.length).put(dict);
        b.put(Blake2b.of(b.array(), 0, b.position()));
        return b.array();
    }
}
