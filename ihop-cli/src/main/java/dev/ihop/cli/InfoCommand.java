package dev.ihop.cli;

import dev.ihop.format.Archive;
import dev.ihop.format.ArchiveDictionary;
import dev.ihop.format.ChunkerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a bita archive (local path or http(s) URL).")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ARCHIVE")
    String archive;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        try (Archive a = Archive.open(Sources.open(archive, null))) {
            ArchiveDictionary d = a.dictionary();
            ChunkerConfig c = d.chunkerConfig();
            Map<String, Object> chunker = new LinkedHashMap<>();
            chunker.put("algorithm", c.algorithm().name());
            if (c.algorithm() == ChunkerConfig.Algorithm.FIXED_SIZE) {
                chunker.put("fixed_size", c.maxSize());
            } else {
                chunker.put("avg_chunk_size", c.averageSize());
                chunker.put("min_chunk_size", c.minSize());
                chunker.put("max_chunk_size", c.maxSize());
                chunker.put("rolling_window_size", c.windowSize());
                chunker.put("filter_bits", c.filterBits());
            }
            chunker.put("hash_length", d.hashLength());
            Map<String, Object> metadata = new LinkedHashMap<>();
            d.metadata().forEach((k, v) -> metadata.put(k, printable(v)));
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("archive", archive);
            info.put("writer_version", d.applicationVersion());
            info.put("archive_size", a.source().size());
            info.put("header_size", a.header().size());
            info.put("source_size", d.sourceTotalSize());
            info.put("chunks", d.rebuildOrder().length);
            info.put("unique_chunks", d.descriptors().size());
            info.put("compressed_size", d.compressedSize());
            info.put("compression", d.compression().type().name().toLowerCase(Locale.ROOT));
            info.put("compression_level", d.compression().level());
            info.put("chunker", chunker);
            info.put("header_checksum", a.header().checksum().hex());
            info.put("source_checksum", d.sourceChecksum().hex());
            info.put("metadata", metadata);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.render(info));
                return 0;
            }
            long unique = d.descriptors().stream().mapToLong(x -> x.sourceSize()).sum();
            out.printf(Locale.ROOT, "Archive:          %s%n", archive);
            out.printf(Locale.ROOT, "Written by:       %s%n", d.applicationVersion().isEmpty() ? "(unknown)" : d.applicationVersion());
            out.printf(Locale.ROOT, "Archive size:     %d bytes (%s), header %d bytes%n", a.source().size(), ByteSize.human(a.source().size()), a.header().size());
            out.printf(Locale.ROOT, "Source size:      %d bytes (%s)%n", d.sourceTotalSize(), ByteSize.human(d.sourceTotalSize()));
            out.printf(Locale.ROOT, "Chunks:           %d (%d unique, %s)%n", d.rebuildOrder().length, d.descriptors().size(), ByteSize.human(unique));
            out.printf(Locale.ROOT, "Compressed size:  %d bytes (%s, %.1f%% of source)%n", d.compressedSize(), ByteSize.human(d.compressedSize()),
                    100.0 * d.compressedSize() / Math.max(1, d.sourceTotalSize()));
            out.printf(Locale.ROOT, "Compression:      %s%n", d.compression());
            out.printf(Locale.ROOT, "Chunker:          %s, hash length %d%n", c, d.hashLength());
            out.printf(Locale.ROOT, "Header checksum:  %s%n", a.header().checksum().hex());
            out.printf(Locale.ROOT, "Source checksum:  %s%n", d.sourceChecksum().hex());
            if (!metadata.isEmpty()) {
                out.println("Metadata:");
                metadata.forEach((k, v) -> out.printf(Locale.ROOT, "  %s: %s%n", k, v));
            }
            return 0;
        }
    }

    /** Metadata as text when it is UTF-8 without control characters, else hex. */
    static String printable(byte[] value) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(value)).toString();
            if (s.chars().noneMatch(ch -> ch < 0x20 && ch != '\n' && ch != '\t')) {
                return s;
            }
        } catch (CharacterCodingException e) {
            // not text: fall through to hex
        }
        return "hex:" + HexFormat.of().formatHex(value);
    }
}
