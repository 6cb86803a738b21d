package dev.ihop.cli;

import dev.ihop.format.ArchiveWriter;
import dev.ihop.format.ChunkerConfig;
import dev.ihop.format.Compression;
import dev.ihop.format.MalformedInputException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "compress", mixinStandardHelpOptions = true,
        description = "Compress an image into a bita archive (stdin when no -i).")
final class CompressCommand implements Callable<Integer> {
    enum HashChunking { RollSum, BuzHash }
    enum CompressionName { brotli, zstd, lzma, none }

    @Spec
    CommandSpec spec;

    @Option(names = {"-i", "--input"}, paramLabel = "INPUT", description = "Image to compress (default: stdin).")
    Path input;

    @Parameters(index = "0", paramLabel = "OUTPUT", description = "Archive to create.")
    Path output;

    @Option(names = "--avg-chunk-size", paramLabel = "SIZE", converter = ByteSize.class, defaultValue = "64KiB",
            description = "Average chunk size (default: ${DEFAULT-VALUE}).")
    int avgChunkSize;

    @Option(names = "--min-chunk-size", paramLabel = "SIZE", converter = ByteSize.class, defaultValue = "16KiB",
            description = "Minimum chunk size (default: ${DEFAULT-VALUE}).")
    int minChunkSize;

    @Option(names = "--max-chunk-size", paramLabel = "SIZE", converter = ByteSize.class, defaultValue = "16MiB",
            description = "Maximum chunk size (default: ${DEFAULT-VALUE}).")
    int maxChunkSize;

    @Option(names = "--hash-chunking", paramLabel = "ALGORITHM", defaultValue = "RollSum",
            description = "Rolling hash: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    HashChunking hashChunking;

    @Option(names = "--rolling-window-size", paramLabel = "SIZE", converter = ByteSize.class,
            description = "Rolling hash window (default: 64 for RollSum, 16 for BuzHash).")
    Integer windowSize;

    @Option(names = "--fixed-size", paramLabel = "SIZE", converter = ByteSize.class,
            description = "Cut fixed-size chunks instead of using a rolling hash.")
    Integer fixedSize;

    @Option(names = "--compression", paramLabel = "TYPE", defaultValue = "brotli",
            description = "Chunk compression: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    CompressionName compression;

    @Option(names = "--compression-level", paramLabel = "LEVEL", defaultValue = "6",
            description = "Compression level (default: ${DEFAULT-VALUE}).")
    int compressionLevel;

    @Option(names = "--hash-length", paramLabel = "BYTES", defaultValue = "64",
            description = "Bytes of each chunk's BLAKE2b-512 kept as its identity, 4..64 (default: ${DEFAULT-VALUE}).")
    int hashLength;

    @Option(names = "--metadata-value", arity = "2", paramLabel = "KEY VALUE", description = "Store a metadata value.")
    List<String> metadataValues = List.of();

    @Option(names = "--metadata-file", arity = "2", paramLabel = "KEY PATH", description = "Store a file's content as metadata.")
    List<String> metadataFiles = List.of();

    @Option(names = {"-f", "--force-create"}, description = "Replace OUTPUT if it exists.")
    boolean force;

    @Option(names = "--threads", paramLabel = "N", description = "Hashing/compression threads (default: number of cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Override
    public Integer call() throws IOException {
        ChunkerConfig chunker = chunkerConfig();
        Compression comp = new Compression(Compression.Type.valueOf(compression.name().toUpperCase(Locale.ROOT)), compressionLevel)
                .validate("--compression-level");
        if (hashLength < 4 || hashLength > 64) {
            throw new MalformedInputException("--hash-length: " + hashLength + " is outside 4..64");
        }
        Map<String, byte[]> metadata = new LinkedHashMap<>();
        for (int i = 0; i + 1 < metadataValues.size(); i += 2) {
            metadata.put(metadataValues.get(i), metadataValues.get(i + 1).getBytes(StandardCharsets.UTF_8));
        }
        for (int i = 0; i + 1 < metadataFiles.size(); i += 2) {
            metadata.put(metadataFiles.get(i), Files.readAllBytes(Path.of(metadataFiles.get(i + 1))));
        }
        var options = new ArchiveWriter.Options(chunker, hashLength, comp, metadata, "ihop " + Main.version(), threads);
        PrintWriter out = spec.commandLine().getOut();
        ArchiveWriter.Summary s;
        try (InputStream in = input == null ? new BufferedInputStream(System.in, 1 << 20) : Files.newInputStream(input);
             TerminalProgress progress = new TerminalProgress(spec.commandLine().getErr())) {
            long totalSize = input != null && Files.isRegularFile(input) ? Files.size(input) : -1;
            s = new ArchiveWriter(options).write(in, output, force, read -> progress.update(() ->
                    "compressing: " + ByteSize.human(read) + (totalSize > 0 ? " of " + ByteSize.human(totalSize) : "")
                            + ", " + progress.rate(read)));
            double seconds = progress.elapsedNanos() / 1e9;
            out.printf(Locale.ROOT, "%s: %s from %s in %.2f s (%.1f MiB/s)%n", output, ByteSize.human(s.archiveSize()),
                    input == null ? "stdin" : input, seconds, s.sourceSize() / 1048576.0 / Math.max(seconds, 1e-9));
        }
        out.printf(Locale.ROOT, "  source:        %d bytes (%s)%n", s.sourceSize(), ByteSize.human(s.sourceSize()));
        out.printf(Locale.ROOT, "  chunks:        %d (%d unique, %s)%n", s.chunks(), s.uniqueChunks(), ByteSize.human(s.uniqueSourceBytes()));
        out.printf(Locale.ROOT, "  compressed:    %s (%.1f%% of source), %s%n", ByteSize.human(s.compressedSize()),
                100.0 * s.compressedSize() / Math.max(1, s.sourceSize()), comp);
        out.printf(Locale.ROOT, "  chunker:       %s%n", chunker);
        out.printf(Locale.ROOT, "  header hash:   %s%n", s.headerChecksum().hex());
        out.printf(Locale.ROOT, "  source hash:   %s%n", s.sourceChecksum().hex());
        return 0;
    }

    private ChunkerConfig chunkerConfig() throws MalformedInputException {
        if (fixedSize != null) {
            return ChunkerConfig.fixed(fixedSize).validate("--fixed-size");
        }
        var algorithm = hashChunking == HashChunking.BuzHash ? ChunkerConfig.Algorithm.BUZHASH : ChunkerConfig.Algorithm.ROLLSUM;
        int window = windowSize != null ? windowSize : algorithm == ChunkerConfig.Algorithm.BUZHASH ? 16 : 64;
        if (avgChunkSize < 2) {
            throw new MalformedInputException("--avg-chunk-size: must be at least 2 bytes");
        }
        if (avgChunkSize < minChunkSize || avgChunkSize > maxChunkSize) {
            throw new MalformedInputException("--avg-chunk-size: " + avgChunkSize + " must lie between the min ("
                    + minChunkSize + ") and max (" + maxChunkSize + ") chunk sizes");
        }
        return ChunkerConfig.rolling(algorithm, avgChunkSize, minChunkSize, maxChunkSize, window).validate("chunker options");
    }
}
