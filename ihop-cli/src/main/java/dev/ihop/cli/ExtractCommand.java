package dev.ihop.cli;

import dev.ihop.store.ReleaseClone;
import dev.ihop.store.ReleaseExtract;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "extract", mixinStandardHelpOptions = true,
        description = {"Write a release's bit-exact image to a file, a block device or stdout (-), verifying every chunk and",
            "the source checksum. An existing OUTPUT of the right size (a file of the image's size, or a block device at least",
            "that large, e.g. the B slot) is updated in place: only blocks that differ are written."})
final class ExtractCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RELEASE", description = "Release file in a store.")
    Path release;

    @Parameters(index = "1", paramLabel = "OUTPUT", description = "File, block device, or - for stdout.")
    String output;

    @Option(names = {"-f", "--force"}, description = "Replace an existing file of another size.")
    boolean force;

    @Option(names = "--block-size", paramLabel = "SIZE", defaultValue = "64KiB", converter = ByteSize.class,
            description = "Unit of comparison when updating in place (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Override
    public Integer call() throws IOException {
        if (blockSize <= 0 || blockSize > 64 << 20) {
            throw new IOException("--block-size must be between 1 byte and 64 MiB");
        }
        PrintWriter report = spec.commandLine().getErr();
        if (output.equals("-")) {
            OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
            ReleaseExtract.Summary s = ReleaseExtract.toStream(release, stdout, ReleaseClone.SILENT);
            report.printf(Locale.ROOT, "%s: wrote %d bytes to stdout%n", release, s.bytesWritten());
            return 0;
        }
        PrintWriter out = spec.commandLine().getOut();
        ReleaseExtract.Summary s;
        try (TerminalProgress progress = new TerminalProgress(report)) {
            s = ReleaseExtract.toFile(release, Path.of(output), force, blockSize, new ReleaseClone.Listener() {
                @Override
                public void phase(String name) {
                }

                @Override
                public void progress(long done, long total) {
                    progress.update(() -> "extracting: " + ByteSize.human(done) + " of " + ByteSize.human(total));
                }
            });
        }
        if (s.inPlace()) {
            out.printf(Locale.ROOT, "%s: updated %s in place: wrote %d of %d blocks of %s, %d bytes (%s) of %s%n", release, output,
                    s.blocksWritten(), s.blocks(), ByteSize.human(s.blockSize()), s.bytesWritten(), ByteSize.human(s.bytesWritten()),
                    ByteSize.human(s.imageSize()));
        } else {
            out.printf(Locale.ROOT, "%s: wrote %s, %d bytes (%s)%n", release, output, s.bytesWritten(), ByteSize.human(s.bytesWritten()));
        }
        return 0;
    }
}
