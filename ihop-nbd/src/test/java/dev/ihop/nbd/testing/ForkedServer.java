package dev.ihop.nbd.testing;

import static org.junit.jupiter.api.Assertions.*;

import dev.ihop.nbd.device.BlockDevice;
import dev.ihop.nbd.device.BlockDevices;
import dev.ihop.nbd.server.Export;
import dev.ihop.nbd.server.NbdServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An {@link NbdServer} in its own JVM, so a test can give it a small heap and watch it from
 * outside: it survives an attack or it does not. Started with {@link #start}; driven by lines
 * on its stdin ({@code memory}: run a GC and answer {@code memory HEAP DIRECT} in bytes;
 * end of input: stop), it reports on stdout, and its log goes to a file.
 */
public final class ForkedServer implements AutoCloseable {
    private final Process process;
    private final BufferedReader replies;
    private final PrintStream commands;
    public final Path socket;
    public final Path log;

    private ForkedServer(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
        this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    /** Serves {@code backends} on a Unix socket in {@code dir} from a JVM started with {@code jvmOptions}. */
    public static ForkedServer start(Path dir, List<String> jvmOptions, Path... backends) throws IOException {
        Path socket = dir.resolve("forked.sock");
        Path log = dir.resolve("forked-server.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ForkedServer.class.getName(), socket.toString()));
        for (Path b : backends) {
            command.add(b.toString());
        }
        Process p = new ProcessBuilder(command).redirectError(log.toFile()).start();
        ForkedServer server = new ForkedServer(p, socket, log);
        String ready = server.replies.readLine();
        assertEquals("ready", ready, () -> "forked server did not start: " + server.logText());
        return server;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Heap used and direct buffer memory in use after a full GC, in bytes. */
    public long[] memory() throws IOException {
        commands.println("memory");
        String line = replies.readLine();
        assertNotNull(line, () -> "forked server died: " + logText());
        String[] parts = line.split(" ");
        assertEquals("memory", parts[0], line);
        return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
    }

    /** The peak resident set size (VmHWM) of the server process, in bytes. */
    public long peakRss() throws IOException {
        return Rss.peak(process.pid());
    }

    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws Exception {
        commands.close();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("forked server did not stop on end of input");
        }
    }

    /** The forked JVM's entry point: {@code SOCKET BACKEND...}. */
    public static void main(String[] args) throws Exception {
        List<BlockDevice> devices = new ArrayList<>();
        List<Export> exports = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            BlockDevice d = BlockDevices.open(Path.of(args[i]));
            devices.add(d);
            exports.add(new Export(Path.of(args[i]).getFileName().toString(), d));
        }
        try (NbdServer server = NbdServer.listenUnix(Path.of(args[0]), exports)) {
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("memory")) {
                    System.gc();
                    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    long direct = 0;
                    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
                        if (pool.getName().equals("direct")) {
                            direct = pool.getMemoryUsed();
                        }
                    }
                    System.out.println("memory " + heap + " " + direct);
                    System.out.flush();
                }
            }
        } finally {
            for (BlockDevice d : devices) {
                d.close();
            }
        }
    }
}
