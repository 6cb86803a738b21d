package dev.ihop.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * External programs for integration tests: a missing one skips the test, unless the system
 * property {@code ihop.requireTools} is "true" (CI), where it fails it.
 */
final class Tools {
    private Tools() {}

    static boolean required() {
        return Boolean.getBoolean("ihop.requireTools");
    }

    static void require(String... programs) {
        for (String program : programs) {
            requireThat(find(program) != null, program + " on the PATH");
        }
    }

    static void requireThat(boolean condition, String what) {
        if (required() && !condition) {
            throw new AssertionError(what + " is required (ihop.requireTools=true) but missing");
        }
        assumeTrue(condition, what + " missing");
    }

    static Path find(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin" + File.pathSeparator + "/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
