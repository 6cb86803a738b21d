package dev.ihop.format;

/**
 * Uncompressed chunk bytes whose hash has been checked against the expected identity.
 * The only way to make one is {@link #verify}, so a store or an output that accepts only
 * these can never be handed unverified data.
 */
public final class VerifiedChunk {
    private final HashSum hash;
    private final byte[] data;

    private VerifiedChunk(HashSum hash, byte[] data) {
        this.hash = hash;
        this.data = data;
    }

    /**
     * Hashes {@code data} and compares with {@code expected} (whose length is the chunk
     * hash length). {@code data} is taken over, not copied; the caller must not change it.
     */
    public static VerifiedChunk verify(byte[] data, HashSum expected, String where) throws MalformedInputException {
        HashSum actual = Blake2b.chunkHash(data, 0, data.length, expected.length());
        if (!actual.equals(expected)) {
            throw new MalformedInputException(where + ": chunk " + expected.hex() + " has the wrong content (its hash is " + actual.hex() + ")");
        }
        return new VerifiedChunk(expected, data);
    }

    /**
     * Hashes {@code data} and makes it the chunk of that identity: the way to take chunks
     * from local data (a seed) whose identity is looked up only after hashing, without
     * hashing twice. {@code data} is taken over, not copied.
     */
    public static VerifiedChunk ofContent(byte[] data, int hashLength) {
        return new VerifiedChunk(Blake2b.chunkHash(data, 0, data.length, hashLength), data);
    }

    public HashSum hash() {
        return hash;
    }

    public int length() {
        return data.length;
    }

    /** The bytes; callers must not modify them. */
    public byte[] data() {
        return data;
    }
}
