package dev.ihop.store;

import dev.ihop.format.Archive;
import dev.ihop.remote.HttpArchiveSource;
import dev.ihop.remote.HttpOptions;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * A clone in its own JVM, for tests that need a second process holding the store lock:
 * {@code CloneProcess URL RELEASE}. Prints "planned" once the store is locked, exits 0
 * when the release is written.
 */
public final class CloneProcess {
    private CloneProcess() {
    }

    public static void main(String[] args) throws Exception {
        var options = new ReleaseClone.Options(false, List.of(), null, false, "child", 2);
        try (Archive a = Archive.open(new HttpArchiveSource(URI.create(args[0]), HttpOptions.defaults()))) {
            ReleaseClone.run(a, Path.of(args[1]), options, new ReleaseClone.Listener() {
                @Override
                public void phase(String name) {
                    System.out.println(name);
                    System.out.flush();
                }

                @Override
                public void progress(long done, long total) {
                }
            });
        }
        System.out.println("done");
    }
}
