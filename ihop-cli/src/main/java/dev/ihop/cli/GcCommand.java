package dev.ihop.cli;

import dev.ihop.store.StoreGc;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "gc", mixinStandardHelpOptions = true,
        description = {"Delete chunk files that no release of the store uses, and temp files left by interrupted writes.",
            "Takes the store for itself: refuses while a clone, serve or mount uses it (or waits, with --wait).",
            "To drop a release, delete its file, then run gc."})
final class GcCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory.")
    Path store;

    @Option(names = {"-n", "--dry-run"}, description = "Only report what would be deleted.")
    boolean dryRun;

    @Option(names = "--wait", description = "Wait for users of the store to finish instead of failing.")
    boolean wait;

    @Option(names = "--list", description = "Name every file deleted.")
    boolean list;

    @Override
    public Integer call() throws IOException {
        StoreGc.Summary s = StoreGc.run(store, dryRun, wait);
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            s.deleted().forEach(p -> out.println((dryRun ? "would delete " : "deleted ") + p));
        }
        String verb = dryRun ? "would free" : "freed";
        out.printf(Locale.ROOT, "%s: %s %s (%d bytes): %d unreferenced chunk files (%s), %d temp files (%s)%n", store, verb,
                ByteSize.human(s.freedBytes()), s.freedBytes(), s.deletedChunkFiles(), ByteSize.human(s.deletedChunkBytes()),
                s.deletedTempFiles(), ByteSize.human(s.deletedTempBytes()));
        out.printf(Locale.ROOT, "  kept %d chunk files (%s) used by %d releases%n", s.keptChunkFiles(), ByteSize.human(s.keptBytes()),
                s.releases());
        return 0;
    }
}
