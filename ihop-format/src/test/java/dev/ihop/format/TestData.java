package dev.ihop.format;

import java.nio.file.Files;
import java.nio.file.Path;

/** The bita test vectors in ../shared/testdata, used in place. */
public final class TestData {
    private TestData() {
    }

    public static Path bita(String name) {
        String root = System.getProperty("ihop.testdata");
        Path dir = root != null ? Path.of(root) : Path.of("..", "..", "shared", "testdata");
        Path p = dir.resolve("bita").resolve(name);
        if (!Files.exists(p)) {
            throw new IllegalStateException("test vector missing: " + p.toAbsolutePath());
        }
        return p;
    }

    public static final String ZERO_SOURCE_CHECKSUM =
            "cd4710390f8542c63765f04837134242d906b297733282f2e906e0151d3ea4ec31db43b925ceea90847760f6470eb72a1cf8feaf1cd4b76ddcde96a614b3527a";
    public static final String RANDOM_SOURCE_CHECKSUM =
            "904055514ad38966055365d5aa539a9e58b403680aec1e2a1b47f7998967a8baa45094a54c586b88737592ad4ff6c8c66ab2af55323954df1679ab2634bd17f9";
}
