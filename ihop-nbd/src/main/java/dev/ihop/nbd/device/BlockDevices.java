package dev.ihop.nbd.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opens what a user names as a backend: an ihop release or a plain image file. */
public final class BlockDevices {
    private BlockDevices() {}

    public static BlockDevice open(Path backend) throws IOException {
        if (Files.isRegularFile(backend)) {
            return FileDevice.open(backend);
        }
        if (!Files.exists(backend)) {
            throw new NoSuchFileException(backend.toString());
        }
        throw new IOException(backend + " is neither a plain image file nor an ihop release");
    }
}
