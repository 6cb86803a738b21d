package dev.ihop.cli;

import dev.ihop.format.Archive;
import dev.ihop.store.ReleaseClone;
import dev.ihop.store.ReleaseVerify;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check every chunk of a release against its hash and the image against its source checksum;",
            "name each bad or missing chunk. With --repair, fetch exactly those chunks from the archive and check again.",
            "Exit status: 0 intact (or repaired), 1 damaged, 2 malformed input."})
final class VerifyCommand implements Callable<Integer> {
    static final int DAMAGED = 1;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RELEASE", description = "Release file in a store.")
    Path release;

    @Option(names = "--repair", paramLabel = "ARCHIVE_OR_URL", description = "Archive to fetch bad or missing chunks from.")
    String repair;

    @Mixin
    HttpFlags http = new HttpFlags();

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        int threads = Runtime.getRuntime().availableProcessors();
        ReleaseVerify.Report report;
        try (TerminalProgress progress = new TerminalProgress(spec.commandLine().getErr())) {
            report = ReleaseVerify.run(release, threads, listener(progress, "verifying"));
        }
        print(out, report);
        if (report.ok() || repair == null) {
            return report.ok() ? 0 : DAMAGED;
        }
        ReleaseVerify.Repair r;
        try (Archive archive = Archive.open(Sources.open(repair, http.toOptions()));
             TerminalProgress progress = new TerminalProgress(spec.commandLine().getErr())) {
            r = ReleaseVerify.repair(report, archive, threads, listener(progress, "repairing"));
        }
        out.printf(Locale.ROOT, "%s: fetched %d chunks (%s of archive data) from %s%n", release, r.chunks(),
                ByteSize.human(r.archiveBytes()), repair);
        print(out, r.after());
        return r.after().ok() ? 0 : DAMAGED;
    }

    private static void print(PrintWriter out, ReleaseVerify.Report report) {
        for (ReleaseVerify.BadChunk b : report.bad()) {
            out.printf(Locale.ROOT, "%s: chunk %s (%d bytes at image offset %d) %s: %s (%s)%n", report.release(), b.hash().hex(), b.size(),
                    b.imageOffset(), b.problem(), b.detail(), b.file());
        }
        if (report.ok()) {
            out.printf(Locale.ROOT, "%s: ok, %d chunks (%d unique), %s, image matches its source checksum%n", report.release(),
                    report.chunks(), report.uniqueChunks(), ByteSize.human(report.imageSize()));
        } else if (report.bad().isEmpty()) {
            out.printf(Locale.ROOT, "%s: DAMAGED: every chunk is intact but the image does not match its source checksum%n", report.release());
        } else {
            out.printf(Locale.ROOT, "%s: DAMAGED: %d of %d unique chunks bad or missing%n", report.release(), report.bad().size(),
                    report.uniqueChunks());
        }
    }

    private static ReleaseClone.Listener listener(TerminalProgress progress, String phase) {
        return new ReleaseClone.Listener() {
            @Override
            public void phase(String name) {
            }

            @Override
            public void progress(long done, long total) {
                progress.update(() -> phase + ": " + ByteSize.human(done) + (total > 0 ? " of " + ByteSize.human(total) : ""));
            }
        };
    }
}
