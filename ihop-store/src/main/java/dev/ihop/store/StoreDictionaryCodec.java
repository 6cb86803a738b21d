package dev.ihop.store;

import static dev.ihop.format.MalformedInputException.verify;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import dev.ihop.format.MalformedInputException;
import dev.ihop.store.proto.StoreDictionaryProto;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads and writes a release's store dictionary file (FORMATS.md section 5), as the Rust
 * ihop does. Integers little-endian.
 *
 * <pre>
 * offset  size  content
 * 0       6     magic "IHOP1\0" (49 48 4F 50 31 00)
 * 6       8     n: length of the dictionary (u64)
 * 14      n     StoreDictionary, protobuf (store_dictionary.proto)
 * 14+n    64    BLAKE2b-512 of bytes [0, 14+n)
 * </pre>
 *
 * The checksum is verified before anything is decoded; every length and index is bounded.
 */
public final class StoreDictionaryCodec {
    public static final byte[] MAGIC = {'I', 'H', 'O', 'P', '1', 0};
    private static final int PRE_HEADER = 14;
    /** Same bound as for archive dictionaries. */
    public static final int MAX_DICTIONARY_SIZE = 512 << 20;

    private StoreDictionaryCodec() {
    }

    /** True if {@code file} starts with the store dictionary magic. */
    public static boolean looksLikeRelease(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(MAGIC.length);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // fill
            }
            return !b.hasRemaining() && Arrays.equals(b.array(), MAGIC);
        } catch (IOException e) {
            return false;
        }
    }

    public static StoreDictionary read(Path file) throws IOException {
        String where = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            verify(size >= PRE_HEADER + Blake2b.DIGEST_LENGTH, where, "too short to be an ihop release (" + size + " bytes)");
            ByteBuffer pre = readFully(ch, 0, PRE_HEADER, where);
            byte[] magic = Arrays.copyOf(pre.array(), MAGIC.length);
            verify(Arrays.equals(magic, MAGIC), where, "not an ihop release dictionary (magic " + HexFormat.of().formatHex(magic) + ")");
            long n = pre.order(ByteOrder.LITTLE_ENDIAN).getLong(6);
            verify(n >= 0 && n == size - PRE_HEADER - Blake2b.DIGEST_LENGTH && n <= MAX_DICTIONARY_SIZE, where,
                    "dictionary length " + Long.toUnsignedString(n) + " at offset 6 does not match the " + size + "-byte file");
            ByteBuffer rest = readFully(ch, PRE_HEADER, (int) n + Blake2b.DIGEST_LENGTH, where);
            byte[] computed = new Blake2b().update(pre.array()).update(rest.array(), 0, (int) n).digest();
            verify(Arrays.equals(computed, 0, 64, rest.array(), (int) n, (int) n + 64), where,
                    "checksum mismatch: the release dictionary is corrupt");
            StoreDictionaryProto.StoreDictionary p;
            try {
                p = StoreDictionaryProto.StoreDictionary.parseFrom(ByteBuffer.wrap(rest.array(), 0, (int) n));
            } catch (InvalidProtocolBufferException e) {
                throw new MalformedInputException(where + ": dictionary is not valid protobuf: " + e.getMessage(), e);
            }
            return decode(p, where);
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long offset, int length, String where) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, offset + b.position()) < 0) {
                throw new EOFException(where + ": file ended early");
            }
        }
        return b.flip();
    }

    private static StoreDictionary decode(StoreDictionaryProto.StoreDictionary p, String where) throws MalformedInputException {
        verify(p.hasChunkerParams(), where, "dictionary has no chunker parameters");
        var cp = p.getChunkerParams();
        ChunkerConfig chunker = ChunkerConfig.decode(cp.getChunkingAlgorithmValue(), cp.getChunkFilterBits(),
                cp.getMinChunkSize(), cp.getMaxChunkSize(), cp.getRollingHashWindowSize(), where);
        int hashLength = ChunkerConfig.checkHashLength(cp.getChunkHashLength(), where);
        verify(p.getSourceChecksum().size() == Blake2b.DIGEST_LENGTH, where,
                "source checksum is " + p.getSourceChecksum().size() + " bytes, expected 64");
        long total = p.getSourceTotalSize();
        verify(total >= 0, where, "source size " + Long.toUnsignedString(total) + " is absurd");
        // Messages are built only on failure: one per entry made parsing allocate per chunk.
        List<StoreDictionary.StoreChunk> chunks = new ArrayList<>(p.getChunkDescriptorsCount());
        for (int i = 0; i < p.getChunkDescriptorsCount(); i++) {
            var d = p.getChunkDescriptors(i);
            if (d.getChecksum().size() != hashLength) {
                throw new MalformedInputException(where + ": chunk " + i + ": hash is " + d.getChecksum().size()
                        + " bytes, expected " + hashLength);
            }
            long sourceSize = Integer.toUnsignedLong(d.getSourceSize());
            if (sourceSize == 0 || sourceSize > chunker.maxSize()) {
                throw new MalformedInputException(where + ": chunk " + i + ": size " + sourceSize + " is outside 1.." + chunker.maxSize());
            }
            chunks.add(new StoreDictionary.StoreChunk(HashSum.of(d.getChecksum().toByteArray()), (int) sourceSize));
        }
        int[] order = new int[p.getSourceOrderCount()];
        long sum = 0;
        for (int i = 0; i < order.length; i++) {
            int index = p.getSourceOrder(i);
            if (index < 0 || index >= chunks.size()) {
                throw new MalformedInputException(where + ": source order entry " + i + " names chunk "
                        + Integer.toUnsignedString(index) + " of " + chunks.size());
            }
            order[i] = index;
            sum += chunks.get(index).sourceSize();
        }
        verify(sum == total, where, "chunks add up to " + sum + " bytes but the image size is " + total);
        return new StoreDictionary(p.getApplicationVersion(), HashSum.of(p.getSourceChecksum().toByteArray()), total, order,
                List.copyOf(chunks), chunker, hashLength);
    }

    public static byte[] encode(StoreDictionary d) {
        ChunkerConfig c = d.chunkerConfig();
        var proto = StoreDictionaryProto.StoreDictionary.newBuilder()
                .setApplicationVersion(d.applicationVersion())
                .setSourceChecksum(ByteString.copyFrom(d.sourceChecksum().toByteArray()))
                .setSourceTotalSize(d.sourceTotalSize())
                .setChunkerParams(StoreDictionaryProto.ChunkerParameters.newBuilder()
                        .setChunkFilterBits(c.filterBits())
                        .setMinChunkSize(c.minSize())
                        .setMaxChunkSize(c.maxSize())
                        .setRollingHashWindowSize(c.windowSize())
                        .setChunkHashLength(d.hashLength())
                        .setChunkingAlgorithmValue(c.algorithm().ordinal()));
        for (int index : d.sourceOrder()) {
            proto.addSourceOrder(index);
        }
        for (StoreDictionary.StoreChunk chunk : d.chunks()) {
            proto.addChunkDescriptors(StoreDictionaryProto.ChunkDescriptor.newBuilder()
                    .setChecksum(ByteString.copyFrom(chunk.checksum().toByteArray()))
                    .setSourceSize(chunk.sourceSize()));
        }
        byte[] dict = proto.build().toByteArray();
        ByteBuffer out = ByteBuffer.allocate(PRE_HEADER + dict.length + Blake2b.DIGEST_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putLong(dict.length).put(dict);
        out.put(Blake2b.of(out.array(), 0, out.position()));
        return out.array();
    }
}
