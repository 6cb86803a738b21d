package dev.ihop.nbd.device;

import dev.ihop.store.StoreDictionaryCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Opens what a user names as a backend: an ihop release (a store dictionary file in its
 * store's root, recognised by its magic) or any other file, served as a plain image.
 */
public final class BlockDevices {
    private BlockDevices() {}

    public static BlockDevice open(Path backend) throws IOException {
        if (!Files.exists(backend)) {
            throw new NoSuchFileException(backend.toString());
        }
        if (Files.isDirectory(backend)) {
            throw new IOException(backend + " is a directory; name a release file in the store, or an image file");
        }
        if (StoreDictionaryCodec.looksLikeRelease(backend)) {
            return ReleaseDevice.open(backend);
        }
        return FileDevice.open(backend);
    }
}
