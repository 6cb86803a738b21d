package dev.ihop.nbd.device;

import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.format.HashSum;
import dev.ihop.nbd.testing.TestReleases;
import dev.ihop.store.ChunkStore;
import dev.ihop.store.StoreDictionary;
import dev.ihop.store.StoreDictionaryCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseDeviceTest extends BlockDeviceContract {
    /** Writing a store fsyncs every chunk: build the shared one once; tests that damage it build their own. */
    @TempDir
    static Path shared;
    private static Path sharedRelease;
    Path release;

    @Override
    BlockDevice open(Path dir, byte[] image) throws IOException {
        if (sharedRelease == null) {
            sharedRelease = TestReleases.create(shared.resolve("store"), "v1", image, 3);
        }
        release = sharedRelease;
        return ReleaseDevice.open(release);
    }

    /** A private copy of the release, for tests that damage the store. */
    private void privateRelease() throws IOException {
        device.close();
        release = TestReleases.create(dir.resolve("store"), "v1", image, 3);
        device = ReleaseDevice.open(release);
    }

    private long[] boundaries() throws IOException {
        return StoreDictionaryCodec.read(release).chunkOffsets();
    }

    @Test
    void theReleaseHasManyChunksWithRepeats() throws IOException {
        StoreDictionary d = StoreDictionaryCodec.read(release);
        assertTrue(d.sourceOrder().length > 50, "chunks: " + d.sourceOrder().length);
        assertTrue(d.chunks().size() < d.sourceOrder().length, "some chunks repeat");
        assertTrue(BlockDevices.open(release) instanceof ReleaseDevice, "a release file is recognised as one");
    }

    @Test
    void readsAroundEveryChunkBoundary() throws IOException {
        long[] offsets = boundaries();
        for (int i = 1; i < offsets.length - 1; i++) {
            long b = offsets[i];
            for (long start = Math.max(0, b - 3); start <= b; start++) {
                int length = (int) Math.min(7, SIZE - start);
                assertArrayEquals(Arrays.copyOfRange(image, (int) start, (int) start + length), read(start, length, i % 2 == 0),
                        "boundary " + i + " at " + b);
            }
        }
    }

    @Test
    void aReadSpanningManyChunks() throws IOException {
        long[] offsets = boundaries();
        long from = offsets[3] - 1;
        long to = offsets[40] + 1;
        assertArrayEquals(Arrays.copyOfRange(image, (int) from, (int) to), read(from, (int) (to - from), true));
    }

    @Test
    void aTinyCacheUnderConcurrencyStaysCorrect() throws Exception {
        device.close();
        device = ReleaseDevice.open(release, 1);
        concurrentReaders();
        oddOffsetsAndLengths();
    }

    @Test
    void aMissingChunkFailsOnlyTheReadsThatNeedIt() throws IOException {
        privateRelease();
        StoreDictionary d = StoreDictionaryCodec.read(release);
        long[] offsets = d.chunkOffsets();
        int victim = 10;
        HashSum hash = d.chunks().get(d.sourceOrder()[victim]).checksum();
        Path chunkFile = new ChunkStore(release.getParent()).chunkPath(hash);
        device.close();
        Files.delete(chunkFile);
        device = ReleaseDevice.open(release);
        long inVictim = offsets[victim];
        IOException e = assertThrows(IOException.class, () -> device.read(inVictim, ByteBuffer.allocate(1)));
        assertTrue(e.getMessage().contains("chunk " + hash.hex()), e.getMessage());
        assertTrue(e.getMessage().contains(chunkFile.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        // reads elsewhere go on (unless they use the same chunk content elsewhere)
        int other = firstChunkNotUsing(d, d.sourceOrder()[victim]);
        assertArrayEquals(Arrays.copyOfRange(image, (int) offsets[other], (int) offsets[other] + 1), read(offsets[other], 1, false));
    }

    @Test
    void aShortChunkFileFailsTheReadWithItsName() throws IOException {
        privateRelease();
        StoreDictionary d = StoreDictionaryCodec.read(release);
        int victim = largestChunk(d);
        HashSum hash = d.chunks().get(d.sourceOrder()[victim]).checksum();
        Path chunkFile = new ChunkStore(release.getParent()).chunkPath(hash);
        device.close();
        try (FileChannel f = FileChannel.open(chunkFile, StandardOpenOption.WRITE)) {
            f.truncate(f.size() - 1);
        }
        device = ReleaseDevice.open(release);
        long at = d.chunkOffsets()[victim];
        IOException e = assertThrows(IOException.class, () -> device.read(at, ByteBuffer.allocate(2)));
        assertTrue(e.getMessage().contains("chunk " + hash.hex()) && e.getMessage().contains("expected"), e.getMessage());
    }

    @Test
    void aCorruptReleaseFileIsRefusedAtOpen() throws IOException {
        byte[] bytes = Files.readAllBytes(release);
        bytes[bytes.length / 2] ^= 1;
        Path bad = Files.write(dir.resolve("bad"), bytes);
        IOException e = assertThrows(IOException.class, () -> ReleaseDevice.open(bad));
        assertTrue(e.getMessage().contains("bad"), e.getMessage());
    }

    private static int firstChunkNotUsing(StoreDictionary d, int unique) {
        for (int i = 0; i < d.sourceOrder().length; i++) {
            if (d.sourceOrder()[i] != unique) {
                return i;
            }
        }
        throw new AssertionError();
    }

    private static int largestChunk(StoreDictionary d) {
        int best = 0;
        for (int i = 0; i < d.sourceOrder().length; i++) {
            if (d.chunks().get(d.sourceOrder()[i]).sourceSize() > d.chunks().get(d.sourceOrder()[best]).sourceSize()) {
                best = i;
            }
        }
        return best;
    }

}
