package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.ihop.format.proto.ChunkDictionaryProto.ChunkDictionary;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Archives whose header checksum is right but whose dictionary is hostile: built with the
 * generated protobuf classes from a good archive, re-checksummed, so that they get past
 * the checksum and reach the semantic checks. Each is refused with one line naming the
 * input and the field, and parsing allocates little (measured with HotSpot's per-thread
 * allocation counter), whatever lengths and counts the dictionary claims.
 */
class HostileDictionaryTest {
    /** Parsing a refused header may allocate this much plus a small multiple of its size. */
    static final long ALLOCATION_ALLOWANCE = 4L << 20;

    @TempDir
    static Path dir;
    static byte[] good;
    static ChunkDictionary dictionary;
    static byte[] chunkData;

    @BeforeAll
    static void makeArchive() throws IOException {
        Path a = dir.resolve("good.cba");
        new ArchiveWriter(new ArchiveWriter.Options(ChunkerConfig.rolling(ChunkerConfig.Algorithm.ROLLSUM, 4096, 1024, 16384, 64),
                64, Compression.of(Compression.Type.ZSTD), Map.of("k", new byte[] {1}), "t", 2))
                .write(new ByteArrayInputStream(SampleImages.image(5, 300_000)), a, false, n -> { });
        good = Files.readAllBytes(a);
        long n = ByteBuffer.wrap(good, 6, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        dictionary = ChunkDictionary.parseFrom(Arrays.copyOfRange(good, 14, 14 + (int) n));
        chunkData = Arrays.copyOfRange(good, 14 + (int) n + 72, good.length);
    }

    /** A complete archive: header around {@code dict} with a correct checksum, then the chunk data. */
    static byte[] archive(byte[] dict, long dataOffset, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(14 + dict.length + 72 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ArchiveHeaderCodec.MAGIC).putLong(dict.length).put(dict).putLong(dataOffset);
        b.put(Blake2b.of(b.array(), 0, b.position())).put(data);
        return b.array();
    }

    static byte[] archive(ChunkDictionary d) {
        byte[] dict = d.toByteArray();
        return archive(dict, 14 + dict.length + 72, chunkData);
    }

    static Arguments hostile(String name, UnaryOperator<ChunkDictionary.Builder> change, String expected) {
        return Arguments.of(name, archive(change.apply(dictionary.toBuilder()).build()), expected);
    }

    static Stream<Arguments> hostileDictionaries() {
        int count = dictionary.getChunkDescriptorsCount();
        List<Arguments> cases = new ArrayList<>();
        for (int length : new int[] {0, 3, 65, -1}) {
            cases.add(hostile("hash length " + Integer.toUnsignedString(length),
                    b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setChunkHashLength(length)), "chunk hash length"));
        }
        cases.add(hostile("descriptor hash of 65 bytes", b -> b.setChunkDescriptors(0,
                b.getChunkDescriptors(0).toBuilder().setChecksum(ByteString.copyFrom(new byte[65]))), "hash is 65 bytes"));
        cases.add(hostile("descriptor hash of 0 bytes", b -> b.setChunkDescriptors(0,
                b.getChunkDescriptors(0).toBuilder().setChecksum(ByteString.EMPTY)), "hash is 0 bytes"));
        for (int index : new int[] {count, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            cases.add(hostile("rebuild order names chunk " + Integer.toUnsignedString(index), b -> b.setRebuildOrder(1, index),
                    "rebuild order entry 1 names chunk"));
        }
        cases.add(hostile("chunk larger than the max chunk size", b -> b.setChunkDescriptors(0,
                b.getChunkDescriptors(0).toBuilder().setSourceSize(16385)), "max chunk size"));
        cases.add(hostile("chunk of 4 GiB", b -> b.setChunkDescriptors(0,
                b.getChunkDescriptors(0).toBuilder().setSourceSize(-1)), "source size 4294967295"));
        cases.add(hostile("empty chunk", b -> b.setChunkDescriptors(0, b.getChunkDescriptors(0).toBuilder().setSourceSize(0)),
                "source size 0"));
        cases.add(hostile("stored chunk larger than the archive", b -> b.setChunkDescriptors(0,
                b.getChunkDescriptors(0).toBuilder().setArchiveSize(chunkData.length + 1)), "lie outside the archive"));
        cases.add(hostile("stored chunk of 4 GiB", b -> b.setChunkDescriptors(0,
                b.getChunkDescriptors(0).toBuilder().setArchiveSize(-1)), "lie outside the archive"));
        for (long offset : new long[] {chunkData.length, Long.MAX_VALUE, Long.MIN_VALUE, -1L, Long.MAX_VALUE - 10}) {
            cases.add(hostile("chunk at offset " + Long.toUnsignedString(offset), b -> b.setChunkDescriptors(1,
                    b.getChunkDescriptors(1).toBuilder().setArchiveOffset(offset)), "lie outside the archive"));
        }
        for (long total : new long[] {Long.MIN_VALUE, -1L, Long.MAX_VALUE, dictionary.getSourceTotalSize() + 1}) {
            cases.add(hostile("source size " + Long.toUnsignedString(total), b -> b.setSourceTotalSize(total), "source size"));
        }
        cases.add(hostile("max chunk size 2^31", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setMaxChunkSize(Integer.MIN_VALUE)),
                "max chunk size"));
        cases.add(hostile("max chunk size 0", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setMaxChunkSize(0)), "max chunk size"));
        cases.add(hostile("min chunk size above max", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setMinChunkSize(20000)),
                "chunk size"));
        cases.add(hostile("filter bits 0", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setChunkFilterBits(0)), "filter bits"));
        cases.add(hostile("filter bits 40", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setChunkFilterBits(40)), "filter bits"));
        cases.add(hostile("window 2^31", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setRollingHashWindowSize(Integer.MIN_VALUE)),
                "window"));
        cases.add(hostile("unknown chunking algorithm", b -> b.setChunkerParams(b.getChunkerParams().toBuilder().setChunkingAlgorithmValue(7)),
                "unknown chunking algorithm"));
        cases.add(hostile("unknown compression", b -> b.setChunkCompression(b.getChunkCompression().toBuilder().setCompressionValue(9)),
                "unknown compression"));
        cases.add(hostile("no chunker parameters", ChunkDictionary.Builder::clearChunkerParams, "no chunker parameters"));
        cases.add(hostile("no compression", ChunkDictionary.Builder::clearChunkCompression, "no chunk compression"));
        cases.add(hostile("source checksum of 0 bytes", b -> b.setSourceChecksum(ByteString.EMPTY), "source checksum"));
        cases.add(hostile("a million rebuild entries", b -> {
            for (int i = 0; i < 1_000_000; i++) {
                b.addRebuildOrder(0);
            }
            return b;
        }, "add up to"));
        byte[] dict = dictionary.toByteArray();
        long headerSize = 14 + dict.length + 72;
        for (long offset : new long[] {0, headerSize - 1, headerSize + chunkData.length + 1, Long.MIN_VALUE, -1L}) {
            cases.add(Arguments.of("chunk data offset " + Long.toUnsignedString(offset), archive(dict, offset, chunkData),
                    "chunk data offset"));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileDictionaries")
    void refusedWithOneLineAndLittleAllocation(String name, byte[] archive, String expected) {
        HostileBytes.Measured m = HostileBytes.measure(() -> ArchiveHeaderCodec.read(new HostileBytes.MemorySource(archive)));
        MalformedInputException e = assertInstanceOf(MalformedInputException.class, m.thrown(), name);
        assertTrue(e.getMessage().startsWith("memory.cba"), "names the input: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "says what is wrong (" + expected + "): " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        long allowed = ALLOCATION_ALLOWANCE + 16L * archive.length;
        assertTrue(m.allocatedBytes() < allowed, name + ": parsing allocated " + m.allocatedBytes() + " bytes, allowed " + allowed);
    }

    /** Found by ArchiveHeaderFuzzTest: brotli and xz threw IllegalArgumentException for an out-of-range level. */
    @Test
    void anOddCompressionLevelDoesNotStopDecoding() throws IOException {
        for (Compression.Type type : new Compression.Type[] {Compression.Type.BROTLI, Compression.Type.LZMA}) {
            Path a = dir.resolve("level-" + type + ".cba");
            byte[] image = SampleImages.image(9, 50_000);
            new ArchiveWriter(new ArchiveWriter.Options(ChunkerConfig.fixed(8192), 64, Compression.of(type), Map.of(), "t", 1))
                    .write(new ByteArrayInputStream(image), a, true, n -> { });
            byte[] bytes = Files.readAllBytes(a);
            long n = ByteBuffer.wrap(bytes, 6, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ChunkDictionary d = ChunkDictionary.parseFrom(Arrays.copyOfRange(bytes, 14, 14 + (int) n));
            d = d.toBuilder().setChunkCompression(d.getChunkCompression().toBuilder().setCompressionLevel(99)).build();
            byte[] dict = d.toByteArray();
            byte[] odd = archive(dict, 14 + dict.length + 72, Arrays.copyOfRange(bytes, 14 + (int) n + 72, bytes.length));
            try (Archive archive = Archive.open(new HostileBytes.MemorySource(odd))) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                archive.extractTo(out);
                org.junit.jupiter.api.Assertions.assertArrayEquals(image, out.toByteArray(), type.toString());
            }
        }
    }

    @Test
    void theUnchangedDictionaryIsAccepted() throws IOException {
        assertEquals(dictionary.getChunkDescriptorsCount(),
                ArchiveHeaderCodec.read(new HostileBytes.MemorySource(archive(dictionary))).dictionary().descriptors().size());
    }

    /**
     * A source that claims to be huge (as a lying server can) with a dictionary length to
     * match: the length is believed only as far as bytes actually arrive, so the refusal
     * costs little memory.
     */
    @Test
    void dictionaryLengthBelievedOnlyAsFarAsBytesArrive() {
        for (long n : new long[] {100L << 20, 400L << 20, ArchiveHeaderCodec.MAX_DICTIONARY_SIZE}) {
            byte[] lying = HostileBytes.withLong(good, 6, n);
            HostileBytes.Measured m = HostileBytes.measure(() ->
                    ArchiveHeaderCodec.read(new HostileBytes.MemorySource(lying, 1L << 40)));
            assertInstanceOf(IOException.class, m.thrown(), "refused");
            assertTrue(m.allocatedBytes() < ALLOCATION_ALLOWANCE + 16L * good.length,
                    "dictionary length " + n + ": allocated " + m.allocatedBytes() + " bytes for a " + good.length + "-byte archive");
        }
    }

    @Test
    void absurdLengthsAreRefusedBeforeAnyRead() {
        for (long n : new long[] {Long.MIN_VALUE, -1L, Long.MAX_VALUE, 1L << 62, (long) ArchiveHeaderCodec.MAX_DICTIONARY_SIZE + 1}) {
            byte[] b = HostileBytes.withLong(good, 6, n);
            HostileBytes.Measured m = HostileBytes.measure(() -> ArchiveHeaderCodec.read(new HostileBytes.MemorySource(b, Long.MAX_VALUE)));
            MalformedInputException e = assertInstanceOf(MalformedInputException.class, m.thrown());
            assertTrue(e.getMessage().contains("dictionary length"), e.getMessage());
            assertTrue(m.allocatedBytes() < 1 << 20, "allocated " + m.allocatedBytes());
        }
    }
}
