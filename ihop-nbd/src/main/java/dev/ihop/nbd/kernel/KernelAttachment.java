package dev.ihop.nbd.kernel;

import static dev.ihop.nbd.protocol.NbdProtocol.NBD_FLAG_HAS_FLAGS;
import static dev.ihop.nbd.protocol.NbdProtocol.NBD_FLAG_READ_ONLY;

import dev.ihop.nbd.server.Export;
import dev.ihop.nbd.server.Transmission;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * An export attached to a kernel NBD device ({@code /dev/nbdX}) through the ioctl interface,
 * as {@code nbd-client} does, but within this process: a socketpair, one end handed to the
 * kernel with {@code NBD_SET_SOCK}, the {@link Transmission} loop on the other end, and
 * {@code NBD_DO_IT} sleeping on a thread of its own until the device is disconnected.
 * There is no handshake on this path; the size, block size and read-only flag are given to
 * the kernel by ioctls.
 *
 * <p>The device is usable once {@code /sys/block/nbdX/pid} exists ({@link #isLive()}).
 * {@link #detach()} disconnects it ({@code NBD_DISCONNECT}, then {@code NBD_CLEAR_SOCK}).
 */
public final class KernelAttachment {
    private static final System.Logger LOG = System.getLogger("dev.ihop.nbd");
    private static final long DETACH_TIMEOUT_SECONDS = 10;

    private final Path device;
    private final Path sysfs;
    private final Object fdLock = new Object();
    private int deviceFd; // guarded by fdLock; -1 once closed
    private final int kernelEnd;
    private final SocketFdChannel serverEnd;
    private final CountDownLatch doItReturned = new CountDownLatch(1);
    private final CountDownLatch transmissionEnded = new CountDownLatch(1);
    private volatile boolean detachRequested;
    private volatile IOException doItFailure;
    private volatile IOException transmissionFailure;

    private KernelAttachment(Path device, Path sysfs, int deviceFd, int kernelEnd, int serverEnd) {
        this.device = device;
        this.sysfs = sysfs;
        this.deviceFd = deviceFd;
        this.kernelEnd = kernelEnd;
        this.serverEnd = new SocketFdChannel(serverEnd);
    }

    /**
     * Attaches {@code export} to {@code device} read-only with the given logical block size
     * (a power of two from 512 to 4096, which the file system on the export must allow).
     *
     * @throws IOException with one clear sentence when the device node is missing, the
     *     kernel has no nbd driver, the device is in use, or the path is no nbd device
     */
    public static KernelAttachment attach(Path device, Export export, int blockSize) throws IOException {
        if (blockSize < 512 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size " + blockSize + " must be a power of two from 512 to 4096");
        }
        long size = export.device().size();
        if (size == 0 || size % blockSize != 0) {
            throw new IOException(export.name() + " is " + size + " bytes, not a positive multiple of the block size "
                    + blockSize + "; the kernel could not reach its last bytes (try --block-size 512)");
        }
        if (!Files.exists(device)) {
            throw new IOException(device + ": no such device node" + (driverLoaded() ? "" : "; this kernel has no nbd driver loaded (modprobe nbd)"));
        }
        Path sysfs = Path.of("/sys/block", device.toRealPath().getFileName().toString());
        if (Files.exists(sysfs.resolve("pid"))) {
            throw new IOException(device + " is already in use (by process " + processOf(readQuietly(sysfs.resolve("pid"))) + ")");
        }
        int fd;
        try {
            fd = Linux.open(device.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
        } catch (ErrnoException e) {
            throw explain(device, e);
        }
        int[] pair = null;
        boolean sockSet = false;
        try {
            Linux.ioctl(fd, Linux.NBD_SET_BLKSIZE, blockSize, "NBD_SET_BLKSIZE");
            Linux.ioctl(fd, Linux.NBD_SET_SIZE_BLOCKS, size / blockSize, "NBD_SET_SIZE_BLOCKS");
            Linux.ioctl(fd, Linux.NBD_SET_FLAGS, NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY, "NBD_SET_FLAGS");
            pair = Linux.socketpair();
            Linux.ioctl(fd, Linux.NBD_SET_SOCK, pair[0], "NBD_SET_SOCK");
            sockSet = true;
            KernelAttachment attachment = new KernelAttachment(device, sysfs, fd, pair[0], pair[1]);
            attachment.start(export);
            return attachment;
        } catch (ErrnoException e) {
            if (sockSet) {
                quietly(() -> Linux.ioctl(fd, Linux.NBD_CLEAR_SOCK, 0, "NBD_CLEAR_SOCK"));
            }
            if (pair != null) {
                int[] p = pair;
                quietly(() -> Linux.close(p[0]));
                quietly(() -> Linux.close(p[1]));
            }
            quietly(() -> Linux.close(fd));
            throw explain(device, e);
        }
    }

    private void start(Export export) {
        Thread transmission = new Thread(() -> {
            try {
                Linux.blockTerminationSignals();
                new Transmission(serverEnd, serverEnd, export, false, "kernel " + device).run();
            } catch (IOException e) {
                if (!detachRequested) {
                    transmissionFailure = e;
                    LOG.log(System.Logger.Level.ERROR, "{0}: serving the kernel failed: {1}", device, e.getMessage());
                }
            } finally {
                // Our end closing is what ends NBD_DO_IT if the kernel is still waiting.
                quietly(serverEnd::close);
                transmissionEnded.countDown();
            }
        }, "nbd-kernel-transmission");
        transmission.setDaemon(true);
        Thread doIt = new Thread(() -> {
            try {
                Linux.blockTerminationSignals();
                Linux.ioctl(deviceFd, Linux.NBD_DO_IT, 0, "NBD_DO_IT");
            } catch (ErrnoException e) {
                if (!detachRequested) {
                    doItFailure = e;
                }
            } finally {
                doItReturned.countDown();
            }
        }, "nbd-do-it");
        doIt.setDaemon(true);
        transmission.start();
        doIt.start();
    }

    /** True once the kernel has started the device (it then has a size and can be mounted). */
    public boolean isLive() {
        return Files.exists(sysfs.resolve("pid"));
    }

    /**
     * Waits until the device is live; false when it stopped first or {@code timeout} passed.
     */
    public boolean awaitLive(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isLive()) {
            if (hasEnded() || System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** True once {@code NBD_DO_IT} has returned: the device is no longer served. */
    public boolean hasEnded() {
        return doItReturned.getCount() == 0;
    }

    /**
     * Blocks until the device is disconnected (by {@link #detach()} or from outside, e.g.
     * {@code nbd-client -d}), then releases it.
     *
     * @throws IOException when the device stopped because serving it failed
     */
    public void awaitDetached() throws IOException, InterruptedException {
        doItReturned.await();
        release();
        // The kernel shut its end down; the transmission loop sees the end of the stream.
        if (!transmissionEnded.await(DETACH_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            serverEnd.shutdown();
        }
        IOException failure = transmissionFailure != null ? transmissionFailure : doItFailure;
        if (failure != null && !detachRequested) {
            throw new IOException(device + " stopped: " + failure.getMessage(), failure);
        }
    }

    /** Disconnects the device; returns once the kernel has let go of it (or a timeout passed). */
    public void detach() throws InterruptedException {
        detachRequested = true;
        synchronized (fdLock) {
            if (deviceFd >= 0) {
                // The kernel sends NBD_CMD_DISC; the transmission loop then closes our end.
                quietly(() -> Linux.ioctl(deviceFd, Linux.NBD_DISCONNECT, 0, "NBD_DISCONNECT"));
            }
        }
        if (!doItReturned.await(DETACH_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            LOG.log(System.Logger.Level.WARNING, "{0}: no disconnect after {1} s, closing the socket", device, DETACH_TIMEOUT_SECONDS);
            serverEnd.shutdown();
            doItReturned.await(DETACH_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        release();
    }

    private void release() {
        synchronized (fdLock) {
            if (deviceFd < 0) {
                return;
            }
            int fd = deviceFd;
            deviceFd = -1;
            quietly(() -> Linux.ioctl(fd, Linux.NBD_CLEAR_SOCK, 0, "NBD_CLEAR_SOCK"));
            quietly(() -> Linux.close(kernelEnd));
            quietly(() -> Linux.close(fd));
        }
    }

    public Path device() {
        return device;
    }

    /** Whether the running kernel has the nbd driver (built in or loaded). */
    public static boolean driverLoaded() {
        return Files.exists(Path.of("/sys/module/nbd"));
    }

    private static IOException explain(Path device, ErrnoException e) {
        String reason = switch (e.errno()) {
            case Linux.ENXIO, Linux.ENODEV -> "no driver behind this device node; the kernel has no nbd driver loaded (modprobe nbd)";
            case Linux.EBUSY -> "already in use (disconnect it first, e.g. nbd-client -d " + device + ")";
            case Linux.ENOTTY, Linux.EINVAL -> "not an nbd device";
            case Linux.EACCES, Linux.EPERM -> "permission denied (attaching an nbd device needs root)";
            case Linux.ENOENT -> "no such device node";
            default -> null;
        };
        return reason == null ? new IOException(device + ": " + e.getMessage(), e) : new IOException(device + ": " + reason, e);
    }

    /** The process of a thread id (sysfs names the thread that sleeps in NBD_DO_IT). */
    private static String processOf(String tid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", tid, "status"))) {
                if (line.startsWith("Tgid:")) {
                    return line.substring(5).strip();
                }
            }
        } catch (IOException | java.nio.file.InvalidPathException e) {
            // fall back to the thread id
        }
        return tid;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private interface Call {
        void run() throws IOException;
    }

    private static void quietly(Call call) {
        try {
            call.run();
        } catch (IOException e) {
            // best-effort cleanup on a path that already failed or is ending
        }
    }
}
