package dev.ihop.cli;

import dev.ihop.format.ArchiveSource;
import dev.ihop.format.FileArchiveSource;
import dev.ihop.remote.HttpArchiveSource;
import dev.ihop.remote.HttpOptions;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/** Opens an archive given on the command line: a local path or an http(s) URL. */
final class Sources {
    private Sources() {
    }

    static boolean isUrl(String location) {
        return location.startsWith("http://") || location.startsWith("https://");
    }

    static ArchiveSource open(String location, HttpOptions http) throws IOException {
        if (isUrl(location)) {
            URI uri;
            try {
                uri = URI.create(location);
            } catch (IllegalArgumentException e) {
                throw new IOException("not a valid URL: " + location);
            }
            return new HttpArchiveSource(uri, http != null ? http : HttpOptions.defaults());
        }
        return new FileArchiveSource(Path.of(location));
    }
}
