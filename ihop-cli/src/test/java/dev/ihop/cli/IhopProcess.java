package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The built ihop.jar run as a separate process, as a user runs it. */
final class IhopProcess {
    private IhopProcess() {}

    static Path jar() {
        Path jar = Path.of(System.getProperty("ihop.jar", "target/ihop.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "run after mvn package: " + jar + " is missing");
        return jar;
    }

    static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    static ProcessBuilder command(Path workDir, String... args) {
        return command(List.of(), workDir, args);
    }

    /** As {@link #command(Path, String...)}, with options for the JVM (e.g. {@code -Xmx64m}). */
    static ProcessBuilder command(List<String> jvmOptions, Path workDir, String... args) {
        List<String> command = new ArrayList<>(List.of(java().toString()));
        command.addAll(jvmOptions);
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-jar", jar().toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).directory(workDir.toFile());
    }

    record Result(int exitCode, String stdout, String stderr) {}

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        Process p = command(workDir, args).start();
        p.getOutputStream().close();
        var err = p.getErrorStream();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] errBytes = err.readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(errBytes, StandardCharsets.UTF_8));
    }
}
