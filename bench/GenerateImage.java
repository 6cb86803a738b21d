import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/**
 * Writes a test image fast: a 64 MiB pseudo-random block (6 bits of entropy per byte, so
 * it compresses to about 75%) repeated, each repeat with 8 random 100-byte changes, so
 * most chunks repeat and each repeat brings some new ones. The same size always gives the
 * same bytes. Usage: java GenerateImage.java OUTPUT SIZE_BYTES
 * (ihop-cli's SmallMemoryTest writes the same image.)
 */
public final class GenerateImage {
    static final int PERIOD = 64 << 20;

    public static void main(String[] args) throws IOException {
        write(Path.of(args[0]), Long.parseLong(args[1]));
    }

    public static void write(Path out, long size) throws IOException {
        byte[] pattern = new byte[PERIOD];
        ByteBuffer p = ByteBuffer.wrap(pattern).order(ByteOrder.LITTLE_ENDIAN);
        long x = 42;
        while (p.hasRemaining()) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            p.putLong(x & 0x3f3f3f3f3f3f3f3fL);
        }
        Random random = new Random(7);
        try (FileChannel c = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            byte[] copy = new byte[PERIOD];
            for (long done = 0; done < size; done += PERIOD) {
                System.arraycopy(pattern, 0, copy, 0, PERIOD);
                for (int i = 0; i < 8; i++) {
                    int at = random.nextInt(PERIOD - 100);
                    for (int j = 0; j < 100; j++) {
                        copy[at + j] = (byte) random.nextInt();
                    }
                }
                ByteBuffer b = ByteBuffer.wrap(copy, 0, (int) Math.min(PERIOD, size - done));
                while (b.hasRemaining()) {
                    c.write(b);
                }
            }
        }
    }
}
