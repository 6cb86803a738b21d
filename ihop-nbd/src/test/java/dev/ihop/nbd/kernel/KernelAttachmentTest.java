package dev.ihop.nbd.kernel;

import static dev.ihop.nbd.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ihop.nbd.device.FileDevice;
import dev.ihop.nbd.protocol.Request;
import dev.ihop.nbd.server.Export;
import dev.ihop.nbd.server.Transmission;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parts of the kernel path that run without an nbd driver: the FFM calls, the
 * transmission loop over a raw socketpair (exactly what the kernel talks to), and the
 * one-line failures. The attach itself is tested in a VM (see ihop-cli's KernelMountIT).
 */
class KernelAttachmentTest {
    @TempDir
    Path dir;

    private Export export(int size) throws IOException {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        return new Export("disk.img", FileDevice.open(Files.write(dir.resolve("disk.img"), bytes)));
    }

    @Test
    void transmissionOverARawSocketpairAsTheKernelSpeaksIt() throws Exception {
        Export export = export(1 << 20);
        byte[] image = Files.readAllBytes(dir.resolve("disk.img"));
        int[] pair = Linux.socketpair();
        SocketFdChannel kernelSide = new SocketFdChannel(pair[0]);
        SocketFdChannel serverSide = new SocketFdChannel(pair[1]);
        Thread server = Thread.ofPlatform().start(() -> {
            try (serverSide) {
                new Transmission(serverSide, serverSide, export, false, "test").run();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (kernelSide) {
            ByteBuffer requests = ByteBuffer.allocateDirect(3 * REQUEST_SIZE);
            Request.encode(requests, 0, NBD_CMD_READ, 1, 512, 4096);
            Request.encode(requests, 0, NBD_CMD_READ, 2, (1 << 20) - 512, 512);
            Request.encode(requests, 0, NBD_CMD_WRITE, 3, 0, 0); // what a read-only device never sends
            kernelSide.write(requests.flip());
            assertArrayEquals(Arrays.copyOfRange(image, 512, 512 + 4096), readSimpleReply(kernelSide, 1, 0, 4096));
            assertArrayEquals(Arrays.copyOfRange(image, (1 << 20) - 512, 1 << 20), readSimpleReply(kernelSide, 2, 0, 512));
            readSimpleReply(kernelSide, 3, NBD_EPERM, 0);
            ByteBuffer disc = ByteBuffer.allocateDirect(REQUEST_SIZE);
            Request.encode(disc, 0, NBD_CMD_DISC, 4, 0, 0);
            kernelSide.write(disc.flip());
            // after NBD_CMD_DISC the server closes its end: we read end of stream
            assertEquals(-1, kernelSide.read(ByteBuffer.allocateDirect(1)));
        }
        server.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(server.isAlive());
        export.device().close();
    }

    private static byte[] readSimpleReply(SocketFdChannel channel, long handle, int error, int length) throws IOException {
        ByteBuffer reply = ByteBuffer.allocateDirect(16 + length);
        reply.limit(16);
        while (reply.hasRemaining()) {
            assertTrue(channel.read(reply) > 0);
        }
        reply.flip();
        assertEquals(NBD_SIMPLE_REPLY_MAGIC, reply.getInt());
        assertEquals(error, reply.getInt());
        assertEquals(handle, reply.getLong());
        ByteBuffer data = ByteBuffer.allocateDirect(length);
        while (data.hasRemaining()) {
            assertTrue(channel.read(data) > 0);
        }
        byte[] bytes = new byte[length];
        data.flip().get(bytes);
        return bytes;
    }

    @Test
    void shutdownWakesABlockedReader() throws Exception {
        int[] pair = Linux.socketpair();
        SocketFdChannel a = new SocketFdChannel(pair[0]);
        SocketFdChannel b = new SocketFdChannel(pair[1]);
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                assertEquals(-1, a.read(ByteBuffer.allocateDirect(16)));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        Thread.sleep(100);
        a.shutdown();
        reader.join(5000);
        assertFalse(reader.isAlive());
        a.close();
        b.close();
        assertThrows(java.nio.channels.ClosedChannelException.class, () -> a.read(ByteBuffer.allocateDirect(1)));
    }

    @Test
    void syscallFailuresNameTheCallAndErrno() {
        ErrnoException e = assertThrows(ErrnoException.class, () -> Linux.open(dir.resolve("absent").toString(), Linux.O_RDONLY));
        assertEquals(Linux.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("open(" + dir.resolve("absent") + "): No such file or directory"), e.getMessage());
        ErrnoException badFd = assertThrows(ErrnoException.class, () -> Linux.ioctl(-1, Linux.NBD_SET_BLKSIZE, 512, "NBD_SET_BLKSIZE"));
        assertEquals(Linux.EBADF, badFd.errno());
        assertTrue(badFd.getMessage().startsWith("ioctl(NBD_SET_BLKSIZE)"), badFd.getMessage());
    }

    @Test
    void missingDeviceNodeIsOneClearLine() throws IOException {
        Export export = export(4096);
        IOException e = assertThrows(IOException.class, () -> KernelAttachment.attach(dir.resolve("nbd7"), export, 512));
        assertTrue(e.getMessage().startsWith(dir.resolve("nbd7") + ": no such device node"), e.getMessage());
        if (!KernelAttachment.driverLoaded()) {
            assertTrue(e.getMessage().contains("no nbd driver"), e.getMessage());
        }
    }

    @Test
    void deviceNodeWithoutDriverIsOneClearLine() throws Exception {
        assumeFalse(KernelAttachment.driverLoaded(), "this kernel has an nbd driver");
        Path node = dir.resolve("nbd0");
        Process mknod = new ProcessBuilder("mknod", node.toString(), "b", "43", "0").redirectErrorStream(true).start();
        mknod.getInputStream().readAllBytes();
        assumeTrue(mknod.waitFor() == 0, "mknod not permitted here");
        Export export = export(4096);
        IOException e = assertThrows(IOException.class, () -> KernelAttachment.attach(node, export, 512));
        assertEquals(node + ": no driver behind this device node; the kernel has no nbd driver loaded (modprobe nbd)", e.getMessage());
    }

    @Test
    void somethingElseThanAnNbdDeviceIsOneClearLine() throws IOException {
        Export export = export(4096);
        IOException e = assertThrows(IOException.class, () -> KernelAttachment.attach(Path.of("/dev/null"), export, 512));
        assertEquals("/dev/null: not an nbd device", e.getMessage());
    }

    @Test
    void sizeMustFillWholeBlocks() throws IOException {
        Export export = export(4096 + 512);
        IOException e = assertThrows(IOException.class, () -> KernelAttachment.attach(Path.of("/dev/null"), export, 4096));
        assertTrue(e.getMessage().contains("not a positive multiple of the block size 4096"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelAttachment.attach(Path.of("/dev/null"), export, 1000));
        assertThrows(IllegalArgumentException.class, () -> KernelAttachment.attach(Path.of("/dev/null"), export, 8192));
    }
}
