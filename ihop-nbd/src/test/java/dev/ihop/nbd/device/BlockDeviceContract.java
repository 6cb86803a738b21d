package dev.ihop.nbd.device;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What every {@link BlockDevice} must do; one subclass per implementation. */
abstract class BlockDeviceContract {
    /** Odd size: the tail is unaligned. */
    static final int SIZE = 2 * 1024 * 1024 + 4321;

    @TempDir
    Path dir;
    byte[] image;
    BlockDevice device;

    /** A device whose bytes are {@code image}. */
    abstract BlockDevice open(Path dir, byte[] image) throws IOException;

    @BeforeEach
    void setUp() throws IOException {
        image = dev.ihop.nbd.testing.TestReleases.imageWithRepeats(SIZE, 11);
        device = open(dir, image);
    }

    @AfterEach
    void tearDown() throws IOException {
        device.close();
    }

    byte[] read(long offset, int length, boolean direct) throws IOException {
        ByteBuffer b = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
        device.read(offset, b);
        assertFalse(b.hasRemaining(), "filled");
        byte[] out = new byte[length];
        b.flip().get(out);
        return out;
    }

    @Test
    void sizeIsTheImageSize() {
        assertEquals(SIZE, device.size());
    }

    @Test
    void wholeImage() throws IOException {
        assertArrayEquals(image, read(0, SIZE, false));
        assertArrayEquals(image, read(0, SIZE, true));
    }

    @Test
    void oddOffsetsAndLengths() throws IOException {
        Random random = new Random(5);
        for (int i = 0; i < 2000; i++) {
            int length = 1 + random.nextInt(i % 20 == 0 ? 500_000 : 3000);
            long offset = random.nextLong(SIZE - length + 1);
            assertArrayEquals(Arrays.copyOfRange(image, (int) offset, (int) offset + length), read(offset, length, i % 2 == 0),
                    length + " at " + offset);
        }
        assertArrayEquals(Arrays.copyOfRange(image, SIZE - 1, SIZE), read(SIZE - 1, 1, false));
        assertArrayEquals(Arrays.copyOfRange(image, SIZE - 4321, SIZE), read(SIZE - 4321, 4321, true));
    }

    @Test
    void fillsOnlyTheRemainingPartOfTheBuffer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(100);
        b.position(10).limit(60);
        device.read(1000, b);
        assertEquals(60, b.position());
        assertEquals(60, b.limit());
        assertArrayEquals(new byte[10], Arrays.copyOfRange(b.array(), 0, 10));
        assertArrayEquals(Arrays.copyOfRange(image, 1000, 1050), Arrays.copyOfRange(b.array(), 10, 60));
        assertArrayEquals(new byte[40], Arrays.copyOfRange(b.array(), 60, 100));
    }

    @Test
    void concurrentReaders() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                futures.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 500; i++) {
                        int length = 1 + random.nextInt(70_000);
                        long offset = random.nextLong(SIZE - length + 1);
                        assertArrayEquals(Arrays.copyOfRange(image, (int) offset, (int) offset + length), read(offset, length, true));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
