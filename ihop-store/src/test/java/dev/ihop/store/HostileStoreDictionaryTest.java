package dev.ihop.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import dev.ihop.format.HostileBytes;
import dev.ihop.format.MalformedInputException;
import dev.ihop.store.proto.StoreDictionaryProto.StoreDictionary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Store dictionaries (release files) that are corrupt or hostile: built with the
 * generated protobuf classes and re-checksummed so they reach the semantic checks. Each
 * is refused with one line naming the file, with little allocation. Also the security
 * side of the store: chunk paths are built only from validated hash bytes, so no
 * dictionary can name a file outside {@code chunks/}.
 */
class HostileStoreDictionaryTest {
    @TempDir
    static Path dir;
    static StoreDictionary good;

    @BeforeAll
    static void makeDictionary() throws IOException {
        Random random = new Random(3);
        List<dev.ihop.store.StoreDictionary.StoreChunk> chunks = new ArrayList<>();
        int[] order = new int[40];
        long total = 0;
        for (int i = 0; i < 20; i++) {
            byte[] h = new byte[32];
            random.nextBytes(h);
            chunks.add(new dev.ihop.store.StoreDictionary.StoreChunk(HashSum.of(h), 1000 + i));
        }
        for (int i = 0; i < order.length; i++) {
            order[i] = i % 20;
            total += 1000 + order[i];
        }
        var d = new dev.ihop.store.StoreDictionary("t", HashSum.of(new byte[64]), total, order, chunks,
                ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 4096, 1024, 16384, 64), 32);
        byte[] file = StoreDictionaryCodec.encode(d);
        good = StoreDictionary.parseFrom(Arrays.copyOfRange(file, 14, file.length - 64));
    }

    /** A release file around {@code dict}, with a correct length and checksum. */
    static byte[] file(byte[] dict) {
        ByteBuffer b = ByteBuffer.allocate(14 + dict.length + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(StoreDictionaryCodec.MAGIC).putLong(dict.length).put(dict);
        b.put(Blake2b.of(b.array(), 0, b.position()));
        return b.array();
    }

    static Arguments hostile(String name, UnaryOperator<StoreDictionary.Builder> change, String expected) {
        return Arguments.of(name, file(change.apply(good.toBuilder()).build().toByteArray()), expected);
    }

    static Stream<Arguments> hostileDictionaries() {
        List<Arguments> cases = new ArrayList<>();
        for (int length : new int[] {0, 3, 65, -1}) {
            cases.add(hostile("hash length " + Integer.toUnsignedString(length),
                    b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setChunkHashLength(length)), "chunk hash length"));
        }
        // A checksum that is a path, or of the wrong length, never becomes a file name.
        cases.add(hostile("chunk hash that spells a path", b -> b.setChunkDescriptors(0, b.getChunkDescriptors(0).toBuilder()
                .setChecksum(ByteString.copyFromUtf8("../../../../etc/passwd"))), "hash is 22 bytes, expected 32"));
        cases.add(hostile("chunk hash of 0 bytes", b -> b.setChunkDescriptors(0, b.getChunkDescriptors(0).toBuilder()
                .setChecksum(ByteString.EMPTY)), "hash is 0 bytes"));
        cases.add(hostile("chunk hash of 64 bytes with length 32", b -> b.setChunkDescriptors(3, b.getChunkDescriptors(3).toBuilder()
                .setChecksum(ByteString.copyFrom(new byte[64]))), "chunk 3: hash is 64 bytes"));
        for (int index : new int[] {20, -1, Integer.MIN_VALUE}) {
            cases.add(hostile("source order names chunk " + Integer.toUnsignedString(index), b -> b.setSourceOrder(5, index),
                    "source order entry 5 names chunk"));
        }
        cases.add(hostile("chunk larger than the max chunk size", b -> b.setChunkDescriptors(0, b.getChunkDescriptors(0).toBuilder()
                .setSourceSize(16385)), "is outside 1..16384"));
        cases.add(hostile("empty chunk", b -> b.setChunkDescriptors(0, b.getChunkDescriptors(0).toBuilder().setSourceSize(0)),
                "size 0"));
        for (long total : new long[] {Long.MIN_VALUE, -1L, good.getSourceTotalSize() - 1}) {
            cases.add(hostile("image size " + Long.toUnsignedString(total), b -> b.setSourceTotalSize(total), "size"));
        }
        cases.add(hostile("max chunk size 2^31", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setMaxChunkSize(Integer.MIN_VALUE)),
                "max chunk size"));
        cases.add(hostile("unknown chunking algorithm", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setChunkingAlgorithmValue(3)),
                "unknown chunking algorithm"));
        cases.add(hostile("no chunker parameters", StoreDictionary.Builder::clearChunkerParams, "no chunker parameters"));
        cases.add(hostile("source checksum of 63 bytes", b -> b.setSourceChecksum(ByteString.copyFrom(new byte[63])), "source checksum"));
        cases.add(hostile("a million order entries", b -> {
            for (int i = 0; i < 1_000_000; i++) {
                b.addSourceOrder(0);
            }
            return b;
        }, "add up to"));
        byte[] bytes = file(good.toByteArray());
        for (long n : new long[] {Long.MIN_VALUE, -1L, Long.MAX_VALUE, 1L << 62, bytes.length, 0}) {
            cases.add(Arguments.of("dictionary length " + Long.toUnsignedString(n), HostileBytes.withLong(bytes, 6, n), "dictionary length"));
        }
        byte[] flipped = bytes.clone();
        flipped[20] ^= 4;
        cases.add(Arguments.of("flipped dictionary byte", flipped, "checksum mismatch"));
        cases.add(Arguments.of("truncated", Arrays.copyOf(bytes, bytes.length - 1), "dictionary length"));
        cases.add(Arguments.of("too short", Arrays.copyOf(bytes, 70), "too short"));
        byte[] magic = bytes.clone();
        magic[0] = 'B';
        cases.add(Arguments.of("wrong magic", magic, "not an ihop release"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileDictionaries")
    void refusedWithOneLineAndLittleAllocation(String name, byte[] bytes, String expected) throws IOException {
        Path p = dir.resolve("release");
        Files.write(p, bytes);
        HostileBytes.Measured m = HostileBytes.measure(() -> StoreDictionaryCodec.read(p));
        MalformedInputException e = assertInstanceOf(MalformedInputException.class, m.thrown(), name);
        assertTrue(e.getMessage().startsWith(p.toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "says what is wrong (" + expected + "): " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        long allowed = (4L << 20) + 16L * bytes.length;
        assertTrue(m.allocatedBytes() < allowed, name + ": allocated " + m.allocatedBytes() + ", allowed " + allowed);
    }

    @Test
    void theUnchangedDictionaryIsAccepted() throws IOException {
        Path p = dir.resolve("good");
        Files.write(p, file(good.toByteArray()));
        assertEquals(20, StoreDictionaryCodec.read(p).chunks().size());
    }

    /** Chunk file names are the hex of validated hash bytes: two directory levels under chunks/, nothing else. */
    @Test
    void chunkPathsStayInsideTheChunkDirectory() {
        ChunkStore store = new ChunkStore(dir.resolve("store"));
        Random random = new Random(1);
        for (int length = HashSum.MIN_CHUNK_HASH_LENGTH; length <= HashSum.MAX_LENGTH; length++) {
            byte[] h = new byte[length];
            random.nextBytes(h);
            h[0] = '.';
            h[1] = '/';
            Path p = store.chunkPath(HashSum.of(h));
            assertEquals(store.chunksDirectory(), p.getParent().getParent());
            assertEquals(p, p.normalize());
            assertTrue(p.getFileName().toString().matches("[0-9a-f]{" + 2 * length + "}\\.chunk"), p.toString());
        }
        for (int length = 0; length < HashSum.MIN_CHUNK_HASH_LENGTH; length++) {
            HashSum shortHash = HashSum.of(new byte[length]);
            assertThrows(IllegalArgumentException.class, () -> store.chunkPath(shortHash), "hash of " + length + " bytes");
        }
    }
}
