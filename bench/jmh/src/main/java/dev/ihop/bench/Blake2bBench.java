package dev.ihop.bench;

import dev.ihop.format.Blake2b;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.digests.Blake2bDigest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * BLAKE2b-512 over one in-memory message: ihop's {@link Blake2b} against Bouncy Castle's
 * {@link Blake2bDigest}. Average time per message; MiB/s = size / time (see README.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class Blake2bBench {
    /** 64 KiB: a typical chunk; 16 MiB: streaming a whole source. */
    @Param({"65536", "16777216"})
    public int size;

    private byte[] data;
    private final Blake2b ihop = new Blake2b();
    private final Blake2bDigest bouncyCastle = new Blake2bDigest(512);
    private final byte[] out = new byte[64];

    @Setup
    public void setup() {
        data = new byte[size];
        new SplittableRandom(42).nextBytes(data);
    }

    @Benchmark
    public byte[] ihop() {
        return ihop.update(data, 0, data.length).digest();
    }

    @Benchmark
    public byte[] bouncyCastle() {
        bouncyCastle.update(data, 0, data.length);
        bouncyCastle.doFinal(out, 0);
        return out;
    }
}
