package dev.ihop.format;

import static dev.ihop.format.MalformedInputException.verify;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.ihop.format.proto.ChunkDictionaryProto;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the bita archive header (FORMATS.md section 2). All integers are
 * little-endian.
 *
 * <pre>
 * offset  size  content
 * 0       6     magic "BITA1\0" (42 49 54 41 31 00); bita 0.1.x wrote "\0BITA1"
 * 6       8     n: length of the dictionary (u64)
 * 14      n     ChunkDictionary, protobuf (chunk_dictionary.proto)
 * 14+n    8     chunk data offset, absolute (u64)
 * 22+n    64    header checksum: BLAKE2b-512 of bytes [0, 22+n)
 * 86+n          chunk data (archive offsets are relative to the chunk data offset)
 * </pre>
 *
 * The checksum is verified before the dictionary is decoded, and every length and index
 * is bounded against the file before it is used.
 */
public final class ArchiveHeaderCodec {
    public static final byte[] MAGIC = {'B', 'I', 'T', 'A', '1', 0};
    public static final byte[] LEGACY_MAGIC = {0, 'B', 'I', 'T', 'A', '1'};
    public static final int PRE_HEADER_SIZE = 14;
    /** Data offset (8) and checksum (64) after the dictionary. */
    public static final int POST_DICTIONARY_SIZE = 8 + Blake2b.DIGEST_LENGTH;
    /**
     * Largest dictionary accepted: a 1 TiB image at 64 KiB chunks needs about 1.3 GiB of
     * descriptors... at 16 MiB per million chunks, 512 MiB covers several hundred GiB.
     */
    public static final int MAX_DICTIONARY_SIZE = 512 << 20;
    /** First read of the dictionary; larger ones grow from here (see {@link #readGrowing}). */
    static final int FIRST_READ = 1 << 20;

    private ArchiveHeaderCodec() {
    }

    /** Reads, verifies and decodes the header of the archive in {@code source}. */
    public static ArchiveHeader read(ArchiveSource source) throws IOException {
        String where = source.describe();
        long fileSize = source.size();
        verify(fileSize >= PRE_HEADER_SIZE + POST_DICTIONARY_SIZE, where,
                "too short to be a bita archive (" + fileSize + " bytes)");
        byte[] pre = source.read(0, PRE_HEADER_SIZE);
        byte[] magic = Arrays.copyOf(pre, MAGIC.length);
        verify(Arrays.equals(magic, MAGIC) || Arrays.equals(magic, LEGACY_MAGIC), where,
                "not a bita archive (magic " + java.util.HexFormat.of().formatHex(magic) + ")");
        long n = ByteBuffer.wrap(pre, 6, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        verify(n >= 0 && n <= fileSize - PRE_HEADER_SIZE - POST_DICTIONARY_SIZE && n <= MAX_DICTIONARY_SIZE, where,
                "dictionary length " + Long.toUnsignedString(n) + " at offset 6 does not fit in the " + fileSize + "-byte archive");
        byte[] rest;
        try {
            rest = readGrowing(source, PRE_HEADER_SIZE, (int) n + POST_DICTIONARY_SIZE);
        } catch (EOFException e) {
            throw new MalformedInputException(where + ": archive is truncated inside its header", e);
        }
        int checksummed = PRE_HEADER_SIZE + (int) n + 8;
        Blake2b hasher = new Blake2b().update(pre).update(rest, 0, (int) n + 8);
        HashSum computed = hasher.sum();
        HashSum stored = HashSum.of(Arrays.copyOfRange(rest, (int) n + 8, rest.length));
        verify(computed.equals(stored), where, "header checksum mismatch (the header is corrupt): stored "
                + stored.hex().substring(0, 16) + "…, computed " + computed.hex().substring(0, 16) + "…");
        long dataOffset = ByteBuffer.wrap(rest, (int) n, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int headerSize = checksummed + Blake2b.DIGEST_LENGTH;
        verify(dataOffset >= headerSize && dataOffset <= fileSize, where,
                "chunk data offset " + Long.toUnsignedString(dataOffset) + " is outside the archive (" + headerSize + ".." + fileSize + ")");
        ChunkDictionaryProto.ChunkDictionary proto;
        try {
            proto = ChunkDictionaryProto.ChunkDictionary.parseFrom(ByteBuffer.wrap(rest, 0, (int) n));
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedInputException(where + ": dictionary is not valid protobuf: " + e.getMessage(), e);
        }
        ArchiveDictionary dictionary = decode(proto, fileSize - dataOffset, where);
        return new ArchiveHeader(dictionary, headerSize, dataOffset, computed);
    }

    /**
     * Reads {@code length} bytes in pieces that double in size, starting at
     * {@link #FIRST_READ}: the dictionary length is believed only as far as bytes actually
     * arrive, so a server that claims a huge file and a huge dictionary but sends little
     * costs little memory. Real dictionaries (tens of bytes per chunk) take one read.
     */
    private static byte[] readGrowing(ArchiveSource source, long offset, int length) throws IOException {
        int have = Math.min(length, FIRST_READ);
        byte[] out = source.read(offset, have);
        while (have < length) {
            int next = Math.min(length - have, have);
            byte[] piece = source.read(offset + have, next);
            out = Arrays.copyOf(out, have + next);
            System.arraycopy(piece, 0, out, have, next);
            have += next;
        }
        return out;
    }

    private static ArchiveDictionary decode(ChunkDictionaryProto.ChunkDictionary p, long chunkDataSize, String where)
            throws MalformedInputException {
        verify(p.hasChunkerParams(), where, "dictionary has no chunker parameters");
        verify(p.hasChunkCompression(), where, "dictionary has no chunk compression");
        var cp = p.getChunkerParams();
        ChunkerConfig chunker = ChunkerConfig.decode(cp.getChunkingAlgorithmValue(), cp.getChunkFilterBits(),
                cp.getMinChunkSize(), cp.getMaxChunkSize(), cp.getRollingHashWindowSize(), where);
        int hashLength = ChunkerConfig.checkHashLength(cp.getChunkHashLength(), where);
        var cc = p.getChunkCompression();
        verify(cc.getCompressionValue() >= 0 && cc.getCompressionValue() <= 3, where,
                "unknown compression " + cc.getCompressionValue());
        Compression compression = new Compression(Compression.Type.values()[cc.getCompressionValue()], cc.getCompressionLevel());
        verify(p.getSourceChecksum().size() == Blake2b.DIGEST_LENGTH, where,
                "source checksum is " + p.getSourceChecksum().size() + " bytes, expected 64");
        long total = p.getSourceTotalSize();
        verify(total >= 0, where, "source size " + Long.toUnsignedString(total) + " is absurd");

        // The checks in these loops build their messages only on failure: a dictionary has
        // one entry per chunk, and a message per entry made parsing allocate ~150 bytes each.
        List<ChunkDescriptor> descriptors = new ArrayList<>(p.getChunkDescriptorsCount());
        for (int i = 0; i < p.getChunkDescriptorsCount(); i++) {
            var d = p.getChunkDescriptors(i);
            long sourceSize = Integer.toUnsignedLong(d.getSourceSize());
            long archiveSize = Integer.toUnsignedLong(d.getArchiveSize());
            long offset = d.getArchiveOffset();
            if (d.getChecksum().size() != hashLength) {
                throw descriptorError(where, i, "hash is " + d.getChecksum().size() + " bytes, expected " + hashLength);
            }
            if (sourceSize == 0 || sourceSize > chunker.maxSize()) {
                throw descriptorError(where, i, "source size " + sourceSize + " is outside 1.." + chunker.maxSize() + " (the max chunk size)");
            }
            if (archiveSize == 0 || offset < 0 || offset > chunkDataSize || archiveSize > chunkDataSize - offset) {
                throw descriptorError(where, i, "bytes " + Long.toUnsignedString(offset) + "+" + archiveSize
                        + " lie outside the archive's " + chunkDataSize + " bytes of chunk data");
            }
            if (compression.type() == Compression.Type.NONE && archiveSize != sourceSize) {
                throw descriptorError(where, i, "uncompressed chunk has archive size " + archiveSize + " but source size " + sourceSize);
            }
            if (archiveSize > ChunkerConfig.MAX_CHUNK_LIMIT) {
                throw descriptorError(where, i, "archive size " + archiveSize + " is absurd");
            }
            descriptors.add(new ChunkDescriptor(HashSum.of(d.getChecksum().toByteArray()), (int) archiveSize, offset, (int) sourceSize));
        }
        int[] order = new int[p.getRebuildOrderCount()];
        long sum = 0;
        for (int i = 0; i < order.length; i++) {
            int index = p.getRebuildOrder(i);
            if (index < 0 || index >= descriptors.size()) {
                throw new MalformedInputException(where + ": rebuild order entry " + i + " names chunk "
                        + Integer.toUnsignedString(index) + " of " + descriptors.size());
            }
            order[i] = index;
            sum += descriptors.get(index).sourceSize();
        }
        verify(sum == total, where, "chunks add up to " + sum + " bytes but the source size is " + total);
        Map<String, byte[]> metadata = new LinkedHashMap<>();
        p.getMetadataMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> metadata.put(e.getKey(), e.getValue().toByteArray()));
        return new ArchiveDictionary(p.getApplicationVersion(), HashSum.of(p.getSourceChecksum().toByteArray()), total,
                chunker, hashLength, compression, order, List.copyOf(descriptors), metadata);
    }

    private static MalformedInputException descriptorError(String where, int index, String reason) {
        return new MalformedInputException(where + ": chunk descriptor " + index + ": " + reason);
    }

    /** The complete header (magic through checksum) for {@code d}, with chunk data right after it. */
    public static byte[] encode(ArchiveDictionary d) {
        ChunkerConfig c = d.chunkerConfig();
        var proto = ChunkDictionaryProto.ChunkDictionary.newBuilder()
                .setApplicationVersion(d.applicationVersion())
                .setSourceChecksum(ByteString.copyFrom(d.sourceChecksum().toByteArray()))
                .setSourceTotalSize(d.sourceTotalSize())
                .setChunkerParams(ChunkDictionaryProto.ChunkerParameters.newBuilder()
                        .setChunkFilterBits(c.filterBits())
                        .setMinChunkSize(c.minSize())
                        .setMaxChunkSize(c.maxSize())
                        .setRollingHashWindowSize(c.windowSize())
                        .setChunkHashLength(d.hashLength())
                        .setChunkingAlgorithmValue(c.algorithm().ordinal()))
                .setChunkCompression(ChunkDictionaryProto.ChunkCompression.newBuilder()
                        .setCompressionValue(d.compression().type().ordinal())
                        .setCompressionLevel(d.compression().level()));
        for (int index : d.rebuildOrder()) {
            proto.addRebuildOrder(index);
        }
        for (ChunkDescriptor cd : d.descriptors()) {
            proto.addChunkDescriptors(ChunkDictionaryProto.ChunkDescriptor.newBuilder()
                    .setChecksum(ByteString.copyFrom(cd.checksum().toByteArray()))
                    .setArchiveSize(cd.archiveSize())
                    .setArchiveOffset(cd.archiveOffset())
                    .setSourceSize(cd.sourceSize()));
        }
        d.metadata().forEach((k, v) -> proto.putMetadata(k, ByteString.copyFrom(v)));
        byte[] dict = proto.build().toByteArray();
        ByteBuffer out = ByteBuffer.allocate(PRE_HEADER_SIZE + dict.length + POST_DICTIONARY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putLong(dict.length).put(dict).putLong(out.capacity());
        byte[] bytes = out.array();
        byte[] checksum = Blake2b.of(bytes, 0, out.position());
        out.put(checksum);
        return bytes;
    }
}
