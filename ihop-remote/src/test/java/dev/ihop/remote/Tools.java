package dev.ihop.remote;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * External programs for integration tests. A missing program skips the test, unless the
 * system property {@code ihop.requireTools} is {@code "true"} (CI), where it fails it.
 */
public final class Tools {
    private Tools() {}

    /** The program's path, from PATH or the sbin directories (nginx lives in /usr/sbin). */
    public static Path require(String program) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/local/sbin"));
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, program);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        requireThat(false, program + " is not installed (looked in PATH and the sbin directories)");
        throw new AssertionError("unreachable");
    }

    /** Skips (or, in CI, fails) unless every program is installed. */
    public static void require(String first, String second, String... more) {
        require(first);
        require(second);
        for (String program : more) {
            require(program);
        }
    }

    /** Skips (or, in CI, fails) unless {@code condition}; {@code what} names what is needed. */
    public static void requireThat(boolean condition, String what) {
        if (condition) {
            return;
        }
        if (Boolean.getBoolean("ihop.requireTools")) {
            fail(what + ": missing, and ihop.requireTools is true");
        }
        Assumptions.abort(what + ": missing");
    }
}
