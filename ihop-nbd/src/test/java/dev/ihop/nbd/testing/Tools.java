package dev.ihop.nbd.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * External programs for integration tests: a missing one skips the test, unless the system
 * property {@code ihop.requireTools} is "true" (CI), where it fails it.
 */
public final class Tools {
    private Tools() {}

    public static boolean required() {
        return Boolean.getBoolean("ihop.requireTools");
    }

    /** Skips (or, in CI, fails) unless every program is on the PATH. */
    public static void require(String... programs) {
        for (String program : programs) {
            boolean found = find(program) != null;
            if (required() && !found) {
                throw new AssertionError(program + " is required (ihop.requireTools=true) but not on the PATH");
            }
            assumeTrue(found, program + " not installed");
        }
    }

    /** Skips (or, in CI, fails) unless {@code condition}; {@code what} says what is missing. */
    public static void requireThat(boolean condition, String what) {
        if (required() && !condition) {
            throw new AssertionError(what + " is required (ihop.requireTools=true)");
        }
        assumeTrue(condition, what);
    }

    public static Path find(String program) {
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
