package dev.ihop.nbd.server;

import dev.ihop.nbd.device.BlockDevice;
import java.util.Objects;

/** A named block device offered to clients. */
public record Export(String name, BlockDevice device) {
    public Export {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
    }
}
