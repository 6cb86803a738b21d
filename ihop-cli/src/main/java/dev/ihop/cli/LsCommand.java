package dev.ihop.cli;

import dev.ihop.store.StoreUsage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "ls", mixinStandardHelpOptions = true,
        description = {"List the releases of a chunk store: image size, chunks, bytes shared with other releases and bytes",
            "only each one uses (what removing it would free); then the store's chunk files, bytes on disk and dedup ratio."})
final class LsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "STORE", description = "Store directory.")
    Path store;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        StoreUsage.Summary s = StoreUsage.of(store);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            List<Object> releases = new ArrayList<>();
            for (StoreUsage.Release r : s.releases()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", r.file().getFileName().toString());
                m.put("writer_version", r.applicationVersion());
                m.put("source_checksum", r.sourceChecksum().hex());
                m.put("image_size", r.imageSize());
                m.put("chunks", r.chunks());
                m.put("unique_chunks", r.uniqueChunks());
                m.put("unique_bytes", r.uniqueBytes());
                m.put("shared_bytes", r.sharedBytes());
                m.put("exclusive_bytes", r.exclusiveBytes());
                m.put("missing_chunks", r.missingChunks());
                releases.add(m);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("store", s.root().toString());
            m.put("releases", releases);
            m.put("chunk_files", s.chunkFiles());
            m.put("chunk_bytes", s.chunkBytes());
            m.put("image_bytes", s.imageBytes());
            m.put("dedup_ratio", Math.round(s.dedupRatio() * 1000) / 1000.0);
            m.put("unreferenced_chunk_files", s.unreferencedFiles());
            m.put("unreferenced_bytes", s.unreferencedBytes());
            m.put("temp_files", s.tempFiles());
            m.put("temp_bytes", s.tempBytes());
            out.println(Json.render(m));
            return 0;
        }
        int width = Math.max(7, s.releases().stream().mapToInt(r -> r.file().getFileName().toString().length()).max().orElse(0));
        out.printf(Locale.ROOT, "%-" + width + "s  %12s  %8s  %12s  %12s  %s%n", "RELEASE", "IMAGE", "CHUNKS", "SHARED", "ONLY IT", "");
        for (StoreUsage.Release r : s.releases()) {
            out.printf(Locale.ROOT, "%-" + width + "s  %12s  %8d  %12s  %12s  %s%n", r.file().getFileName(), ByteSize.human(r.imageSize()),
                    r.chunks(), ByteSize.human(r.sharedBytes()), ByteSize.human(r.exclusiveBytes()),
                    r.missingChunks() > 0 ? r.missingChunks() + " chunks missing (ihop verify)" : "");
        }
        out.printf(Locale.ROOT, "%d releases, %d chunk files, %s on disk (%d bytes) for %s of images: dedup ratio %.2f%n",
                s.releases().size(), s.chunkFiles(), ByteSize.human(s.chunkBytes()), s.chunkBytes(), ByteSize.human(s.imageBytes()),
                s.dedupRatio());
        if (s.unreferencedFiles() > 0 || s.tempFiles() > 0) {
            out.printf(Locale.ROOT, "unreferenced: %d chunk files (%s), %d temp files (%s); ihop gc frees them%n", s.unreferencedFiles(),
                    ByteSize.human(s.unreferencedBytes()), s.tempFiles(), ByteSize.human(s.tempBytes()));
        }
        return 0;
    }
}
