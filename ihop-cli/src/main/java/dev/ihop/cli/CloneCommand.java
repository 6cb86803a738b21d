package dev.ihop.cli;

import dev.ihop.format.Archive;
import dev.ihop.format.HashSum;
import dev.ihop.format.MalformedInputException;
import dev.ihop.remote.HttpArchiveSource;
import dev.ihop.store.ReleaseClone;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "clone", mixinStandardHelpOptions = true,
        description = {"Fetch a release into a chunk store, downloading only the chunks the store lacks.",
            "OUTPUT is the release's dictionary file; its directory is the store."})
final class CloneCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "INPUT", description = "Archive: local path or http(s) URL.")
    String input;

    @Parameters(index = "1", paramLabel = "OUTPUT", description = "Release file to create, e.g. /data/store/v2.")
    Path output;

    @Option(names = "--seed", paramLabel = "FILE", description = "File or block device to take matching chunks from (repeatable).")
    List<Path> seeds = List.of();

    @Option(names = "--naive", description = "Trust chunk files already in the store without re-hashing them.")
    boolean naive;

    @Option(names = "--verify-header", paramLabel = "HEX", description = "Refuse the archive unless its header checksum is HEX.")
    String verifyHeader;

    @Option(names = {"-f", "--force-create"}, description = "Replace an existing release file.")
    boolean force;

    @Mixin
    HttpFlags http = new HttpFlags();

    @Override
    public Integer call() throws IOException {
        HashSum pinned = null;
        if (verifyHeader != null) {
            try {
                pinned = HashSum.fromHex(verifyHeader.trim());
            } catch (IllegalArgumentException e) {
                throw new MalformedInputException("--verify-header: not a hex checksum: " + verifyHeader);
            }
        }
        var options = new ReleaseClone.Options(naive, seeds, pinned, force, "ihop " + Main.version(),
                Runtime.getRuntime().availableProcessors());
        PrintWriter out = spec.commandLine().getOut();
        try (Archive archive = Archive.open(Sources.open(input, http.toOptions()));
             TerminalProgress progress = new TerminalProgress(spec.commandLine().getErr())) {
            AtomicReference<String> phase = new AtomicReference<>("");
            java.util.concurrent.atomic.AtomicInteger stored = new java.util.concurrent.atomic.AtomicInteger();
            ReleaseClone.Summary s = ReleaseClone.run(archive, output, options, new ReleaseClone.Listener() {
                @Override
                public void phase(String name) {
                    phase.set(name);
                    if (Main.verbose) {
                        // With -v each phase gets a line, so logs (and the crash tests) can tell where a run was.
                        spec.commandLine().getErr().println("ihop: " + name);
                    }
                }

                @Override
                public void progress(long done, long total) {
                    progress.update(() -> phase.get() + ": " + (total > 0
                            ? ByteSize.human(done) + " of " + ByteSize.human(total) + ", " + progress.rate(done)
                            : ByteSize.human(done)) + ", " + stored.get() + " chunks written");
                }

                @Override
                public void chunkStored() {
                    stored.incrementAndGet();
                }
            });
            double seconds = progress.elapsedNanos() / 1e9;
            long header = archive.header().size();
            out.printf(Locale.ROOT, "%s: cloned %s (%s) in %.2f s%n", output, input, ByteSize.human(s.sourceSize()), seconds);
            out.printf(Locale.ROOT, "  chunks:      %d (%d unique): %d already in store, %d from seeds, %d fetched%n",
                    s.chunks(), s.uniqueChunks(), s.present(), s.fromSeeds(), s.fetched());
            if (archive.source() instanceof HttpArchiveSource h) {
                out.printf(Locale.ROOT, "  downloaded:  %d bytes (%s) in %d requests, of %s in the archive%n",
                        h.stats().bytesDownloaded(), ByteSize.human(h.stats().bytesDownloaded()), h.stats().requests(),
                        ByteSize.human(header + s.archiveChunkBytes()));
            } else {
                out.printf(Locale.ROOT, "  read:        %s of chunk data, of %s in the archive%n",
                        ByteSize.human(s.bytesFetched()), ByteSize.human(header + s.archiveChunkBytes()));
            }
            out.printf(Locale.ROOT, "  written:     %d bytes (%s)%n", s.bytesWritten(), ByteSize.human(s.bytesWritten()));
        }
        return 0;
    }
}
