package dev.ihop.bench;

import dev.ihop.format.ChunkReader;
import dev.ihop.format.Chunker;
import dev.ihop.format.ChunkerConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Boundary search over 32 MiB of random bytes with bita's default parameters (64 KiB
 * average, 16 KiB min, 16 MiB max, 64-byte window): the bare chunker over one array, and
 * {@link ChunkReader} over a stream (adds refills, compaction and the per-chunk copy).
 * The {@code baseline} methods run the code as it was before the speed-up ({@link Baseline}).
 * Average time per 32 MiB; MiB/s = 32 / seconds (see README.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ChunkerBench {
    static final int SIZE = 32 << 20;

    @Param({"ROLLSUM", "BUZHASH"})
    public ChunkerConfig.Algorithm algorithm;

    private byte[] data;
    private ChunkerConfig config;

    @Setup
    public void setup() {
        data = new byte[SIZE];
        new SplittableRandom(42).nextBytes(data);
        config = ChunkerConfig.rolling(algorithm, 64 << 10, 16 << 10, 16 << 20, 64);
    }

    @Benchmark
    public int chunker() {
        Chunker chunker = config.newChunker();
        int chunks = 0;
        for (int start = 0; start < data.length; chunks++) {
            int length = chunker.findBoundary(data, start, data.length);
            start += length < 0 ? data.length - start : length;
        }
        return chunks;
    }

    @Benchmark
    public int baselineChunker() {
        return PairedCpuTime.chunkArray(Baseline.newChunker(config), data);
    }

    @Benchmark
    public int baselineChunkReader() {
        return PairedCpuTime.chunkStream(new Baseline.ChunkReader(new ByteArrayInputStream(data), Baseline.newChunker(config)));
    }

    @Benchmark
    public int chunkReader() throws IOException {
        ChunkReader reader = new ChunkReader(new ByteArrayInputStream(data), config.newChunker());
        int chunks = 0;
        while (reader.next() != null) {
            chunks++;
        }
        return chunks;
    }
}
