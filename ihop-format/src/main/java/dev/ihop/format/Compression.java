package dev.ihop.format;

import dev.ihop.format.codec.BrotliCodec;
import dev.ihop.format.codec.ChunkCodec;
import dev.ihop.format.codec.NoneCodec;
import dev.ihop.format.codec.XzCodec;
import dev.ihop.format.codec.ZstdCodec;

/** How chunks of an archive are compressed ({@code ChunkCompression}). */
public record Compression(Type type, int level) {

    /** In protobuf enum order. LZMA means an .xz stream (FORMATS.md section 3). */
    public enum Type {
        NONE(0, 0, 0), LZMA(0, 9, 6), ZSTD(1, 22, 3), BROTLI(0, 11, 6);

        public final int minLevel;
        public final int maxLevel;
        public final int defaultLevel;

        Type(int minLevel, int maxLevel, int defaultLevel) {
            this.minLevel = minLevel;
            this.maxLevel = maxLevel;
            this.defaultLevel = defaultLevel;
        }
    }

    public static Compression bitaDefault() {
        return new Compression(Type.BROTLI, 6);
    }

    public static Compression of(Type type) {
        return new Compression(type, type.defaultLevel);
    }

    /** Checks the level against what the codec accepts. */
    public Compression validate(String where) throws MalformedInputException {
        MalformedInputException.verify(type == Type.NONE || (level >= type.minLevel && level <= type.maxLevel), where,
                type + " compression level " + Integer.toUnsignedString(level) + " is outside " + type.minLevel + ".." + type.maxLevel);
        return this;
    }

    public ChunkCodec codec() {
        return switch (type) {
            case NONE -> NoneCodec.INSTANCE;
            case LZMA -> new XzCodec(level);
            case ZSTD -> new ZstdCodec(level);
            case BROTLI -> new BrotliCodec(level);
        };
    }

    /**
     * A codec for decompressing only. The level matters only when compressing, and the
     * level an archive states is untrusted: brotli and xz refuse out-of-range levels with
     * an IllegalArgumentException, so decoding uses the type's default instead.
     */
    public ChunkCodec decoder() {
        return new Compression(type, type.defaultLevel).codec();
    }

    @Override
    public String toString() {
        return type == Type.NONE ? "none" : type.name().toLowerCase(java.util.Locale.ROOT) + " level " + level;
    }
}
