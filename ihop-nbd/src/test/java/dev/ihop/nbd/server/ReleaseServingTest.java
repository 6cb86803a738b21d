package dev.ihop.nbd.server;

import static dev.ihop.nbd.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.format.HashSum;
import dev.ihop.nbd.device.ReleaseDevice;
import dev.ihop.nbd.testing.TestClient;
import dev.ihop.nbd.testing.TestReleases;
import dev.ihop.store.ChunkStore;
import dev.ihop.store.StoreDictionary;
import dev.ihop.store.StoreDictionaryCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A store release served over NBD: bytes equal the image; a missing chunk is NBD_EIO plus a log line naming it. */
class ReleaseServingTest {
    @TempDir
    Path dir;

    @Test
    void servesAReleaseAndReportsAMissingChunk() throws Exception {
        byte[] image = TestReleases.imageWithRepeats(3 * 1024 * 1024 + 333, 21);
        Path release = TestReleases.create(dir.resolve("store"), "v1", image, 4);
        StoreDictionary d = StoreDictionaryCodec.read(release);
        long[] offsets = d.chunkOffsets();
        List<String> logged = new ArrayList<>();
        Logger jul = Logger.getLogger("dev.ihop.nbd");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (logged) {
                    logged.add(new java.util.logging.SimpleFormatter().formatMessage(record));
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        jul.addHandler(capture);
        try (ReleaseDevice device = ReleaseDevice.open(release);
                NbdServer server = NbdServer.listenUnix(dir.resolve("s"), List.of(new Export("v1", device)));
                TestClient client = new TestClient(server.address())) {
            client.connect("v1", true);
            assertEquals(image.length, client.size);
            assertArrayEquals(image, client.read(0, image.length));
            long from = offsets[5] - 2;
            assertArrayEquals(Arrays.copyOfRange(image, (int) from, (int) from + 100_000), client.read(from, 100_000));

            int victim = 7;
            HashSum hash = d.chunks().get(d.sourceOrder()[victim]).checksum();
            Files.delete(new ChunkStore(release.getParent()).chunkPath(hash));
            // The chunk may still be open in the device's cache; a fresh device shows the loss.
            try (ReleaseDevice fresh = ReleaseDevice.open(release);
                    NbdServer second = NbdServer.listenUnix(dir.resolve("s2"), List.of(new Export("v1", fresh)));
                    TestClient c2 = new TestClient(second.address())) {
                c2.connect("", false);
                c2.sendRequest(0, NBD_CMD_READ, 1, offsets[victim], 10);
                assertEquals(NBD_EIO, c2.readReadReply(offsets[victim], 10).error());
                assertArrayEquals(Arrays.copyOfRange(image, 0, 10), c2.read(0, 10), "the connection goes on");
            }
        } finally {
            jul.removeHandler(capture);
        }
        synchronized (logged) {
            assertTrue(logged.stream().anyMatch(line -> line.contains("NBD_EIO") && line.contains("chunk " + d.chunks().get(d.sourceOrder()[7]).checksum().hex())),
                    "log names the chunk: " + logged);
        }
    }
}
