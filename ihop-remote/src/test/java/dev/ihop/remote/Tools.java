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
        String message = program + " is not installed (looked in PATH and the sbin directories)";
        if (Boolean.getBoolean("ihop.requireTools")) {
            fail(message + " and ihop.requireTools is true");
        }
        Assumptions.abort(message);
        throw new AssertionError("unreachable");
    }
}
