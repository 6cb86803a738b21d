package dev.ihop.format;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An archive in a local file, read with positional reads. Thread-safe. */
public final class FileArchiveSource implements ArchiveSource {
    private final Path path;
    private final FileChannel channel;

    public FileArchiveSource(Path path) throws IOException {
        this.path = path;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
    }

    @Override
    public String describe() {
        return path.toString();
    }

    @Override
    public long size() throws IOException {
        return channel.size();
    }

    @Override
    public byte[] read(long offset, int length) throws IOException {
        long size = channel.size();
        if (offset > size || length > size - offset) {
            throw new EOFException(path + ": wanted bytes " + new ByteRange(offset, length) + " but the file has " + size);
        }
        byte[] out = new byte[length];
        ByteBuffer buf = ByteBuffer.wrap(out);
        while (buf.hasRemaining()) {
            int n = channel.read(buf, offset + buf.position());
            if (n < 0) {
                throw new EOFException(path + ": file ended at " + (offset + buf.position()) + " while reading " + new ByteRange(offset, length));
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
