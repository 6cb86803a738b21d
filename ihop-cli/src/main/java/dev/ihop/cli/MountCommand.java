package dev.ihop.cli;

import dev.ihop.nbd.device.BlockDevice;
import dev.ihop.nbd.device.BlockDevices;
import dev.ihop.nbd.kernel.KernelAttachment;
import dev.ihop.nbd.server.Export;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ihop mount}: a release or image as a read-only kernel block device. */
@Command(name = "mount",
        description = {"Attach a release or plain image file to a kernel NBD device (/dev/nbdX), read-only,",
                "and serve it until SIGINT/SIGTERM, which detach the device. Needs root and the nbd driver."})
final class MountCommand implements Callable<Integer> {
    private static final Duration LIVE_TIMEOUT = Duration.ofSeconds(30);

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BACKEND", description = "An ihop release or a plain image file.")
    Path backend;

    @Parameters(index = "1", paramLabel = "DEVICE", description = "The NBD device node, e.g. /dev/nbd0.")
    Path device;

    @Option(names = "--block-size", paramLabel = "N", defaultValue = "512",
            description = "Logical block size given to the kernel: 512, 1024, 2048 or 4096 (default ${DEFAULT-VALUE});"
                    + " the file system on the image must allow it.")
    int blockSize;

    @Override
    public Integer call() throws Exception {
        if (blockSize < 512 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
            throw new ParameterException(spec.commandLine(), "--block-size " + blockSize + ": must be 512, 1024, 2048 or 4096");
        }
        ForegroundService.configureLogging();
        try (BlockDevice blockDevice = BlockDevices.open(backend)) {
            KernelAttachment attachment = KernelAttachment.attach(device, new Export(backend.getFileName().toString(), blockDevice), blockSize);
            return ForegroundService.run(new ForegroundService.Service() {
                @Override
                public void awaitEnd() throws Exception {
                    awaitLive(attachment);
                    attachment.awaitDetached();
                }

                @Override
                public void stop() throws InterruptedException {
                    attachment.detach();
                }
            });
        }
    }

    private void awaitLive(KernelAttachment attachment) throws InterruptedException {
        if (attachment.awaitLive(LIVE_TIMEOUT)) {
            System.err.println("ihop: " + backend + " is attached to " + device + " read-only; stop with SIGTERM or Ctrl-C");
        } else if (!attachment.hasEnded()) {
            System.err.println("ihop: " + device + " is not live after " + LIVE_TIMEOUT.toSeconds() + " s; still waiting");
        }
    }
}
