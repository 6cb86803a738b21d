package dev.ihop.nbd.device;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A read-only run of bytes served as a block device: a plain image file, or a store release
 * whose bytes live in chunk files. Implementations are safe for concurrent reads from many
 * connections.
 */
public interface BlockDevice extends Closeable {

    /** Size in bytes; fixed for the life of the device. */
    long size();

    /**
     * Fills all of {@code dst}'s remaining bytes with the device's bytes from {@code offset}.
     * The caller has checked that the range lies inside the device (requests are validated
     * once, in the protocol layer), so implementations need not.
     *
     * @throws IOException when the backing data cannot be read in full (a missing or
     *     short file); the message names the file so it can be logged as one line
     */
    void read(long offset, ByteBuffer dst) throws IOException;
}
