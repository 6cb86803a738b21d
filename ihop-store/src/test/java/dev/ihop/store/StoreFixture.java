package dev.ihop.store;

import dev.ihop.format.HashSum;
import dev.ihop.format.SampleImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Archives v0 (unrelated), v1 and v2 (next release of v1), and helpers to look at a store. */
final class StoreFixture {
    final Path www;
    final Path store;
    final byte[] v0;
    final byte[] v1;
    final byte[] v2;

    StoreFixture(Path dir) throws IOException {
        www = Files.createDirectories(dir.resolve("www"));
        store = dir.resolve("store");
        v0 = SampleImages.image(13, 2_000_000);
        v1 = SampleImages.image(11, 3_000_000);
        v2 = SampleImages.nextRelease(v1, 12);
        CloneTest.compress(v0, www.resolve("v0.cba"));
        CloneTest.compress(v1, www.resolve("v1.cba"));
        CloneTest.compress(v2, www.resolve("v2.cba"));
    }

    Path clone(String name) throws IOException {
        Path release = store.resolve(name);
        CloneTest.cloneLocal(www.resolve(name + ".cba"), release, CloneTest.options());
        return release;
    }

    /** Chunk hashes the release references. */
    Set<HashSum> chunksOf(String name) throws IOException {
        Set<HashSum> out = new HashSet<>();
        StoreDictionaryCodec.read(store.resolve(name)).chunks().forEach(c -> out.add(c.checksum()));
        return out;
    }

    /** Every regular file under the store, relative names. */
    Set<String> files() throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.walk(store)) {
            s.filter(Files::isRegularFile).forEach(p -> out.add(store.relativize(p).toString()));
        }
        return out;
    }

    Path chunkPath(HashSum h) {
        return new ChunkStore(store).chunkPath(h);
    }
}
