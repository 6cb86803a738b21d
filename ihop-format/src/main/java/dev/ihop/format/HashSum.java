package dev.ihop.format;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A (possibly truncated) BLAKE2b-512 digest: a chunk's identity, a source or header
 * checksum. Immutable; equality is by content.
 */
public final class HashSum implements Comparable<HashSum> {
    public static final int MAX_LENGTH = 64;
    /** bita accepts hash lengths 4..64; shorter would make collisions likely. */
    public static final int MIN_CHUNK_HASH_LENGTH = 4;

    private final byte[] bytes;
    private final int hash;

    private HashSum(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /** Copies {@code bytes}. */
    public static HashSum of(byte[] bytes) {
        if (bytes.length > MAX_LENGTH) {
            throw new IllegalArgumentException("hash longer than 64 bytes: " + bytes.length);
        }
        return new HashSum(bytes.clone());
    }

    /** The first {@code length} bytes of {@code digest}. */
    public static HashSum truncated(byte[] digest, int length) {
        return new HashSum(Arrays.copyOf(digest, length));
    }

    public static HashSum fromHex(String hex) {
        return of(HexFormat.of().parseHex(hex));
    }

    public int length() {
        return bytes.length;
    }

    public byte[] toByteArray() {
        return bytes.clone();
    }

    public byte byteAt(int i) {
        return bytes[i];
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    /** True if this hash starts with {@code prefix} (a full hash against a truncated one). */
    public boolean startsWith(HashSum prefix) {
        return prefix.bytes.length <= bytes.length
                && Arrays.equals(bytes, 0, prefix.bytes.length, prefix.bytes, 0, prefix.bytes.length);
    }

    public HashSum truncate(int length) {
        return length == bytes.length ? this : new HashSum(Arrays.copyOf(bytes, length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HashSum h && hash == h.hash && Arrays.equals(bytes, h.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public int compareTo(HashSum o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
