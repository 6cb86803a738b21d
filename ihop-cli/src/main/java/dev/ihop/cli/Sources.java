package dev.ihop.cli;

import dev.ihop.format.ArchiveSource;
import dev.ihop.format.FileArchiveSource;
import java.io.IOException;
import java.nio.file.Path;

/** Opens an archive given on the command line: a local path, or (later) an http(s) URL. */
final class Sources {
    private Sources() {
    }

    static ArchiveSource open(String location, Object httpOptions) throws IOException {
        if (location.startsWith("http://") || location.startsWith("https://")) {
            throw new IOException(location + ": HTTP archives are not supported yet");
        }
        return new FileArchiveSource(Path.of(location));
    }
}
