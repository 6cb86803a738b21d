package dev.ihop.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** gc could not take a store because a clone, serve or mount holds it. */
public final class StoreBusyException extends IOException {
    private static final long serialVersionUID = 1L;

    public StoreBusyException(Path root, List<String> holders) {
        super("store " + root + " is in use by " + (holders.isEmpty() ? "another process (clone, serve or mount)" : String.join(", ", holders))
                + "; try again when it is done, or wait with --wait");
    }
}
