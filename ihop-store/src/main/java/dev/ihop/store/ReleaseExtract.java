package dev.ihop.store;

import dev.ihop.format.ArchiveWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Writes a release's bit-exact image to a file, a block device or a stream, from a
 * {@link ReleaseImageStream} (so every chunk and the source checksum are verified on the
 * way).
 *
 * <p>An existing output of the right size (a regular file of exactly the image size, or
 * a block device at least that large, such as the inactive slot of an A/B layout) is
 * updated in place: it is compared block by block and only blocks that differ are
 * written, so flash sees as few writes as possible. Anything else becomes a temp file,
 * fsynced and renamed over the output. Memory: one chunk and two blocks.
 */
public final class ReleaseExtract {
    public static final int DEFAULT_BLOCK_SIZE = 64 << 10;
    /** What follows {@code .NAME.} in a temp file's name: the writer's pid. */
    private static final Pattern LEFTOVER_PID = Pattern.compile("\\d{1,18}\\.tmp");

    /**
     * What extract did.
     *
     * @param inPlace       the output was updated in place (else written fresh)
     * @param blocks        blocks of the image compared (in place) or written (fresh)
     * @param blocksWritten blocks that differed and were written
     * @param bytesWritten  bytes written to the output
     */
    public record Summary(long imageSize, boolean inPlace, int blockSize, long blocks, long blocksWritten, long bytesWritten) {
    }

    private ReleaseExtract() {
    }

    /** Streams the image (e.g. to stdout). */
    public static Summary toStream(Path release, OutputStream out, ReleaseClone.Listener listener) throws IOException {
        try (ReleaseImageStream in = new ReleaseImageStream(release)) {
            byte[] buf = new byte[DEFAULT_BLOCK_SIZE];
            long done = 0;
            long blocks = 0;
            for (int n; (n = in.readNBytes(buf, 0, buf.length)) > 0; ) {
                out.write(buf, 0, n);
                done += n;
                blocks++;
                listener.progress(done, in.imageSize());
            }
            out.flush();
            return new Summary(in.imageSize(), false, buf.length, blocks, blocks, done);
        }
    }

    /**
     * Writes the image to {@code output}: in place when it already has the right size,
     * else fresh. A regular file of another size is replaced only if {@code replace}.
     */
    public static Summary toFile(Path release, Path output, boolean replace, int blockSize, ReleaseClone.Listener listener)
            throws IOException {
        try (ReleaseImageStream in = new ReleaseImageStream(release)) {
            long size = in.imageSize();
            if (Files.exists(output)) {
                boolean regular = Files.isRegularFile(output);
                if (!regular && Files.isDirectory(output)) {
                    throw new IOException(output + " is a directory; give a file or block device");
                }
                long outputSize = regular ? Files.size(output) : BlockDevices.size(output);
                if (regular ? outputSize == size : outputSize >= size) {
                    return inPlace(in, output, blockSize, listener);
                }
                if (!regular) {
                    throw new IOException(output + " has " + outputSize + " bytes, too small for the " + size + "-byte image");
                }
                if (!replace) {
                    throw new FileAlreadyExistsException(output.toString(), null,
                            "exists with " + outputSize + " bytes but the image has " + size);
                }
            }
            return fresh(in, output, blockSize, listener);
        }
    }

    private static Summary inPlace(ReleaseImageStream in, Path output, int blockSize, ReleaseClone.Listener listener)
            throws IOException {
        byte[] wanted = new byte[blockSize];
        ByteBuffer existing = ByteBuffer.allocate(blockSize);
        long blocks = 0;
        long written = 0;
        long bytes = 0;
        long position = 0;
        try (FileChannel ch = FileChannel.open(output, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            for (int n; (n = in.readNBytes(wanted, 0, blockSize)) > 0; ) {
                existing.clear().limit(n);
                while (existing.hasRemaining()) {
                    if (ch.read(existing, position + existing.position()) < 0) {
                        break; // shrunk meanwhile: the rest differs
                    }
                }
                if (existing.position() != n || !Arrays.equals(wanted, 0, n, existing.array(), 0, n)) {
                    ByteBuffer w = ByteBuffer.wrap(wanted, 0, n);
                    while (w.hasRemaining()) {
                        ch.write(w, position + w.position());
                    }
                    written++;
                    bytes += n;
                }
                blocks++;
                position += n;
                listener.progress(position, in.imageSize());
            }
            ch.force(true);
        }
        return new Summary(in.imageSize(), true, blockSize, blocks, written, bytes);
    }

    private static Summary fresh(ReleaseImageStream in, Path output, int blockSize, ReleaseClone.Listener listener)
            throws IOException {
        Path target = output.toAbsolutePath().normalize();
        Path dir = target.getParent();
        Path temp = dir.resolve("." + target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        removeLeftovers(dir, target.getFileName().toString());
        byte[] buf = new byte[blockSize];
        long blocks = 0;
        long bytes = 0;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (int n; (n = in.readNBytes(buf, 0, blockSize)) > 0; ) {
                    ByteBuffer w = ByteBuffer.wrap(buf, 0, n);
                    while (w.hasRemaining()) {
                        ch.write(w);
                    }
                    blocks++;
                    bytes += n;
                    listener.progress(bytes, in.imageSize());
                }
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            ArchiveWriter.fsyncDirectory(dir);
        } finally {
            Files.deleteIfExists(temp);
        }
        return new Summary(in.imageSize(), false, blockSize, blocks, blocks, bytes);
    }

    /**
     * Deletes the temp files that killed extracts to the same output left behind
     * ({@code .NAME.PID.tmp}): those whose process is gone, and the one under our own pid,
     * which an earlier process with that pid left (after a reboot a boot script often gets
     * the same pid again; this process writes one temp file per output at a time). Without
     * this every crash would keep up to an image's size of disk, and a leftover under our
     * own pid would make the extract fail for good ({@code CREATE_NEW}).
     */
    private static void removeLeftovers(Path dir, String name) throws IOException {
        String prefix = "." + name + ".";
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(prefix) && n.endsWith(".tmp") && LEFTOVER_PID.matcher(n.substring(prefix.length())).matches();
        })) {
            for (Path p : files) {
                String n = p.getFileName().toString();
                long pid = Long.parseLong(n.substring(prefix.length(), n.length() - ".tmp".length()));
                if (pid == self || ProcessHandle.of(pid).isEmpty()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Sizes of block devices, which {@link Files#size} reports as 0. */
    static final class BlockDevices {
        private BlockDevices() {
        }

        static long size(Path device) throws IOException {
            try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size > 0) {
                    return size;
                }
            }
            // /sys/dev/block/MAJOR:MINOR/size counts 512-byte sectors whatever the device's block size.
            long rdev = ((Number) Files.getAttribute(device, "unix:rdev")).longValue();
            long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
            long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
            Path sys = Path.of("/sys/dev/block/" + major + ":" + minor + "/size");
            if (!Files.exists(sys)) {
                throw new IOException(device + " is neither a regular file nor a block device");
            }
            return Math.multiplyExact(Long.parseLong(Files.readString(sys).trim()), 512L);
        }
    }
}
