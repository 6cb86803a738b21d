package dev.ihop.format;

import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * Incremental unkeyed BLAKE2b-512 (Bouncy Castle's implementation). Not thread-safe;
 * reusable after {@link #digest()}.
 */
public final class Blake2b {
    public static final int DIGEST_LENGTH = 64;
    private final Blake2bDigest digest = new Blake2bDigest(512);

    public Blake2b update(byte[] data, int offset, int length) {
        digest.update(data, offset, length);
        return this;
    }

    public Blake2b update(byte[] data) {
        return update(data, 0, data.length);
    }

    /** Finishes, returns the 64-byte digest and resets for the next message. */
    public byte[] digest() {
        byte[] out = new byte[DIGEST_LENGTH];
        digest.doFinal(out, 0);
        return out;
    }

    public HashSum sum() {
        return HashSum.of(digest());
    }

    public static byte[] of(byte[] data, int offset, int length) {
        return new Blake2b().update(data, offset, length).digest();
    }

    /** The chunk identity of {@code data}: its BLAKE2b-512 truncated to {@code hashLength}. */
    public static HashSum chunkHash(byte[] data, int offset, int length, int hashLength) {
        return HashSum.truncated(of(data, offset, length), hashLength);
    }
}
