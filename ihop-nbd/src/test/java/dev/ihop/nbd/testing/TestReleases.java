package dev.ihop.nbd.testing;

import dev.ihop.format.Blake2b;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.HashSum;
import dev.ihop.format.VerifiedChunk;
import dev.ihop.store.ChunkStore;
import dev.ihop.store.StoreDictionary;
import dev.ihop.store.StoreDictionary.StoreChunk;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds a release in a chunk store from an image, cut at random places (with repeats), through the store's own API. */
public final class TestReleases {
    private TestReleases() {}

    public static final int HASH_LENGTH = 32;

    /** A release {@code name} of {@code image} in the store at {@code root}; returns the release file. */
    public static Path create(Path root, String name, byte[] image, long seed) throws IOException {
        Random random = new Random(seed);
        ChunkStore store = new ChunkStore(root);
        Map<HashSum, Integer> index = new HashMap<>();
        List<StoreChunk> chunks = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        int at = 0;
        while (at < image.length) {
            int size = switch (random.nextInt(10)) {
                case 0 -> 1; // tiny chunks: boundaries close together
                case 1 -> 100_000 + random.nextInt(200_000);
                default -> 1 + random.nextInt(40_000);
            };
            size = Math.min(size, image.length - at);
            byte[] data = Arrays.copyOfRange(image, at, at + size);
            HashSum hash = Blake2b.chunkHash(data, 0, size, HASH_LENGTH);
            Integer i = index.get(hash);
            if (i == null) {
                i = chunks.size();
                index.put(hash, i);
                chunks.add(new StoreChunk(hash, size));
                store.putChunk(VerifiedChunk.verify(data, hash, "test"));
            }
            order.add(i);
            at += size;
        }
        store.sync();
        StoreDictionary dictionary = new StoreDictionary("test", HashSum.of(Blake2b.of(image, 0, image.length)), image.length,
                order.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(chunks), ChunkerConfig.bitaDefault(), HASH_LENGTH);
        Path release = root.resolve(name);
        store.writeRelease(release, dictionary, false);
        return release;
    }

    /** An image with repeated regions, so that a release of it shares chunks. */
    public static byte[] imageWithRepeats(int size, long seed) {
        Random random = new Random(seed);
        byte[] image = new byte[size];
        random.nextBytes(image);
        int block = Math.max(1, size / 8);
        System.arraycopy(image, 0, image, 4 * block, block); // a repeat
        Arrays.fill(image, 6 * block, 7 * block, (byte) 0); // a zero run
        return image;
    }
}
