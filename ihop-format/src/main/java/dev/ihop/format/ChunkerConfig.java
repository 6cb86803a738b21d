package dev.ihop.format;

import static dev.ihop.format.MalformedInputException.verify;

/**
 * How an image is cut into chunks, as recorded in an archive ({@code ChunkerParameters}).
 * For {@link Algorithm#FIXED_SIZE} only {@code maxSize} (the fixed size) matters.
 */
public record ChunkerConfig(Algorithm algorithm, int filterBits, int minSize, int maxSize, int windowSize) {

    /** Numbers are the protobuf enum values. */
    public enum Algorithm {
        BUZHASH, ROLLSUM, FIXED_SIZE;
    }

    /** Largest chunk any chunker may produce; chunks are held in memory whole. */
    public static final int MAX_CHUNK_LIMIT = 256 << 20;
    /** Largest rolling window accepted (bita's windows are 16 to 64 bytes). */
    public static final int MAX_WINDOW = 4096;

    public static ChunkerConfig rolling(Algorithm algorithm, int avgSize, int minSize, int maxSize, int windowSize) {
        return new ChunkerConfig(algorithm, filterBitsForAverage(avgSize), minSize, maxSize, windowSize);
    }

    public static ChunkerConfig fixed(int size) {
        return new ChunkerConfig(Algorithm.FIXED_SIZE, 0, 0, size, 0);
    }

    /** bita's defaults: RollSum, 64 KiB average, 16 KiB min, 16 MiB max, 64-byte window. */
    public static ChunkerConfig bitaDefault() {
        return rolling(Algorithm.ROLLSUM, 64 << 10, 16 << 10, 16 << 20, 64);
    }

    /** {@code 30 - nlz(avg)}: 64 KiB gives 15 (as bita derives it). */
    public static int filterBitsForAverage(int avgSize) {
        return 30 - Integer.numberOfLeadingZeros(avgSize);
    }

    public int filterMask() {
        return filterBits <= 0 ? 0 : -1 >>> (32 - filterBits);
    }

    /** Average chunk size the filter aims at. */
    public long averageSize() {
        return algorithm == Algorithm.FIXED_SIZE ? maxSize : 1L << (filterBits + 1);
    }

    /**
     * The chunker described by a dictionary's {@code ChunkerParameters} fields (archive and
     * store dictionaries share them), checked.
     */
    public static ChunkerConfig decode(int algorithm, int filterBits, int minSize, int maxSize, int windowSize, String where)
            throws MalformedInputException {
        verify(algorithm >= 0 && algorithm < Algorithm.values().length, where, "unknown chunking algorithm " + algorithm);
        return new ChunkerConfig(Algorithm.values()[algorithm], filterBits, minSize, maxSize, windowSize).validate(where);
    }

    /** Checks a dictionary's chunk hash length (bita accepts 4..64 bytes). */
    public static int checkHashLength(int hashLength, String where) throws MalformedInputException {
        verify(hashLength >= HashSum.MIN_CHUNK_HASH_LENGTH && hashLength <= HashSum.MAX_LENGTH, where,
                "chunk hash length " + Integer.toUnsignedString(hashLength) + " is outside 4..64");
        return hashLength;
    }

    /** Checks values from an archive or the command line; the message names the field. */
    public ChunkerConfig validate(String where) throws MalformedInputException {
        verify(maxSize > 0 && maxSize <= MAX_CHUNK_LIMIT, where,
                "max chunk size " + Integer.toUnsignedString(maxSize) + " is outside 1.." + MAX_CHUNK_LIMIT);
        if (algorithm != Algorithm.FIXED_SIZE) {
            verify(filterBits >= 1 && filterBits <= 31, where, "chunk filter bits " + Integer.toUnsignedString(filterBits) + " is outside 1..31");
            verify(minSize >= 0 && minSize <= maxSize, where,
                    "min chunk size " + Integer.toUnsignedString(minSize) + " is larger than max chunk size " + maxSize);
            verify(windowSize >= 1 && windowSize <= MAX_WINDOW, where,
                    "rolling hash window " + Integer.toUnsignedString(windowSize) + " is outside 1.." + MAX_WINDOW);
        }
        return this;
    }

    /** A fresh boundary finder for this configuration. */
    public Chunker newChunker() {
        return switch (algorithm) {
            case FIXED_SIZE -> new FixedSizeChunker(maxSize);
            case ROLLSUM -> new RollSumChunker(this);
            case BUZHASH -> new BuzHashChunker(this);
        };
    }

    @Override
    public String toString() {
        return algorithm == Algorithm.FIXED_SIZE
                ? "FixedSize(" + maxSize + ")"
                : algorithm + "(avg " + averageSize() + ", min " + minSize + ", max " + maxSize + ", window " + windowSize + ")";
    }
}
