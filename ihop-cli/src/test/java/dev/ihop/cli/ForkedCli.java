package dev.ihop.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CLI run as a real, separate JVM ({@code java -cp <test classpath> dev.ihop.cli.Main}),
 * so that it can be killed with SIGKILL or given a small heap. Stderr lines are collected
 * as they arrive, with the time they arrived; the peak RSS (VmHWM) is sampled from
 * {@code /proc/<pid>/status} while the process runs.
 */
final class ForkedCli implements AutoCloseable {
    /** One stderr line and when it arrived (System.nanoTime). */
    record Line(long nanos, String text) {}

    private static final String JAVA = ProcessHandle.current().info().command().orElse("java");

    private final Process process;
    private final long startNanos = System.nanoTime();
    private final BlockingQueue<Line> stderr = new LinkedBlockingQueue<>();
    private final List<Line> allStderr = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong peakRssKiB = new AtomicLong();
    private final Thread reader;
    private final Thread sampler;

    private ForkedCli(Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform().daemon().name("forked-cli-stderr").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String s; (s = r.readLine()) != null; ) {
                    Line line = new Line(System.nanoTime(), s);
                    allStderr.add(line);
                    stderr.add(line);
                }
            } catch (IOException e) {
                // The process died; what arrived is kept.
            }
        });
        Path status = Path.of("/proc", Long.toString(process.pid()), "status");
        this.sampler = Thread.ofPlatform().daemon().name("forked-cli-rss").start(() -> {
            while (process.isAlive()) {
                try {
                    for (String l : Files.readAllLines(status)) {
                        if (l.startsWith("VmHWM:")) {
                            peakRssKiB.accumulateAndGet(Long.parseLong(l.replaceAll("\\D", "")), Math::max);
                        }
                    }
                    Thread.sleep(20);
                } catch (IOException | NumberFormatException e) {
                    return; // gone
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** Starts {@code ihop args...} with the given JVM options (e.g. {@code -Xmx64m}); stdout is discarded. */
    static ForkedCli start(List<String> jvmOptions, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(JAVA);
        command.addAll(jvmOptions);
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        return new ForkedCli(pb.start());
    }

    Process process() {
        return process;
    }

    long millisSinceStart() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    long startNanos() {
        return startNanos;
    }

    /** Waits for a stderr line equal to {@code text}; null if the process ended (or timed out) first. */
    Line awaitLine(String text, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            Line l = stderr.poll(10, TimeUnit.MILLISECONDS);
            if (l != null && l.text().equals(text)) {
                return l;
            }
            if (l == null && !process.isAlive() && !reader.isAlive() && stderr.isEmpty()) {
                return null;
            }
        }
        return null;
    }

    /** Waits for the process to end; the exit code. */
    int await(long timeoutSeconds) throws InterruptedException {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("ihop did not finish within " + timeoutSeconds + " s; stderr: " + stderrText());
        }
        reader.join(5000);
        sampler.join(5000);
        return process.exitValue();
    }

    /**
     * SIGKILL now. True if the signal ended the process (exit 137), false if it had
     * already finished on its own.
     */
    boolean kill() throws InterruptedException {
        process.destroyForcibly();
        return await(30) == 128 + 9;
    }

    /** Stderr lines so far, with their arrival times. */
    List<Line> lines() {
        synchronized (allStderr) {
            return List.copyOf(allStderr);
        }
    }

    /** Everything written to stderr so far. */
    String stderrText() {
        synchronized (allStderr) {
            return String.join("\n", allStderr.stream().map(Line::text).toList());
        }
    }

    /** The last line that started with {@code prefix}, or null. */
    String lastLineStartingWith(String prefix) {
        synchronized (allStderr) {
            for (int i = allStderr.size() - 1; i >= 0; i--) {
                if (allStderr.get(i).text().startsWith(prefix)) {
                    return allStderr.get(i).text();
                }
            }
        }
        return null;
    }

    /** Highest VmHWM seen, in KiB (sampled every 20 ms). */
    long peakRssKiB() {
        return peakRssKiB.get();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
