package dev.ihop.cli;

import dev.ihop.format.Archive;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.store.ChunkDiff;
import dev.ihop.store.ImageChunks;
import dev.ihop.store.StoreDictionaryCodec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "diff", mixinStandardHelpOptions = true,
        description = {"Compare two images in chunks: what B shares with A, what is new in B, and the estimated download to go",
            "from A to B. Each side is an image file (or block device), an archive (path or URL) or a release. Images are cut",
            "with the other side's chunker when it is an archive or release, else with bita's default."})
final class DiffCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "A", description = "What the device has.")
    String a;

    @Parameters(index = "1", paramLabel = "B", description = "What it would update to.")
    String b;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    @Mixin
    HttpFlags http = new HttpFlags();

    @Override
    public Integer call() throws IOException {
        ImageChunks.Kind kindA = kindOf(a);
        ImageChunks.Kind kindB = kindOf(b);
        ImageChunks sideB = kindB == ImageChunks.Kind.IMAGE ? null : described(b, kindB);
        ImageChunks sideA = kindA == ImageChunks.Kind.IMAGE ? null : described(a, kindA);
        ImageChunks reference = sideB != null ? sideB : sideA;
        ChunkerConfig chunker = reference != null ? reference.chunker() : ChunkerConfig.bitaDefault();
        int hashLength = reference != null ? reference.hashLength() : ImageChunks.DEFAULT_HASH_LENGTH;
        if (sideA == null) {
            sideA = image(a, chunker, hashLength);
        }
        if (sideB == null) {
            sideB = image(b, chunker, hashLength);
        }
        ChunkDiff d = ChunkDiff.of(sideA, sideB);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("a", side(sideA));
            m.put("b", side(sideB));
            m.put("same_chunker", d.sameChunker());
            m.put("shared_chunks", d.sharedChunks());
            m.put("shared_bytes", d.sharedBytes());
            m.put("new_chunks", d.newChunks());
            m.put("new_bytes", d.newBytes());
            m.put("dropped_chunks", d.dropped());
            m.put("dropped_bytes", d.droppedBytes());
            m.put("download_bytes", d.downloadBytes());
            m.put("download_compressed", sideB.kind() == ImageChunks.Kind.ARCHIVE);
            out.println(Json.render(m));
            return 0;
        }
        for (ImageChunks s : new ImageChunks[] {sideA, sideB}) {
            out.printf(Locale.ROOT, "%s: %s %s, %s, %d chunks (%d unique, %s), %s%n", s == sideA ? "A" : "B",
                    s.kind().name().toLowerCase(Locale.ROOT), s.name(), ByteSize.human(s.imageSize()), s.chunks(), s.unique().size(),
                    ByteSize.human(s.uniqueBytes()), s.chunker());
        }
        if (!d.sameChunker()) {
            out.println("note: A and B were cut with different chunkers, so few chunks can match");
        }
        out.printf(Locale.ROOT, "shared:   %d chunks, %d bytes (%s, %.1f%% of B)%n", d.sharedChunks(), d.sharedBytes(),
                ByteSize.human(d.sharedBytes()), 100.0 * d.sharedBytes() / Math.max(1, sideB.uniqueBytes()));
        out.printf(Locale.ROOT, "new in B: %d chunks, %d bytes (%s)%n", d.newChunks(), d.newBytes(), ByteSize.human(d.newBytes()));
        out.printf(Locale.ROOT, "only in A: %d chunks, %d bytes (%s)%n", d.dropped(), d.droppedBytes(), ByteSize.human(d.droppedBytes()));
        out.printf(Locale.ROOT, "download A -> B: ~%d bytes (%s)%s%n", d.downloadBytes(), ByteSize.human(d.downloadBytes()),
                sideB.kind() == ImageChunks.Kind.ARCHIVE
                        ? ", compressed chunks plus the " + sideB.headerBytes() + "-byte header"
                        : ", uncompressed (B is not an archive)");
        return 0;
    }

    private static Map<String, Object> side(ImageChunks s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("kind", s.kind().name().toLowerCase(Locale.ROOT));
        m.put("image_size", s.imageSize());
        m.put("chunks", s.chunks());
        m.put("unique_chunks", s.unique().size());
        m.put("unique_bytes", s.uniqueBytes());
        m.put("chunker", s.chunker().toString());
        return m;
    }

    private static ImageChunks.Kind kindOf(String location) throws IOException {
        if (Sources.isUrl(location)) {
            return ImageChunks.Kind.ARCHIVE;
        }
        Path p = Path.of(location);
        if (!Files.exists(p)) {
            throw new NoSuchFileException(location);
        }
        return ImageChunks.kindOf(p);
    }

    private ImageChunks described(String location, ImageChunks.Kind kind) throws IOException {
        if (kind == ImageChunks.Kind.RELEASE) {
            Path p = Path.of(location);
            return ImageChunks.of(p, StoreDictionaryCodec.read(p));
        }
        try (Archive archive = Archive.open(Sources.open(location, http.toOptions()))) {
            return ImageChunks.of(archive);
        }
    }

    private static ImageChunks image(String location, ChunkerConfig chunker, int hashLength) throws IOException {
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            return ImageChunks.ofImage(location, new java.io.BufferedInputStream(in, 1 << 16), chunker, hashLength);
        }
    }
}
