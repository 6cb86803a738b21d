package dev.ihop.nbd.device;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;

class FileDeviceTest extends BlockDeviceContract {
    @Override
    BlockDevice open(Path dir, byte[] image) throws IOException {
        return FileDevice.open(Files.write(dir.resolve("disk.img"), image));
    }

    @Test
    void aFileTruncatedWhileServedFailsTheReadWithItsName() throws IOException {
        try (FileChannel f = FileChannel.open(dir.resolve("disk.img"), StandardOpenOption.WRITE)) {
            f.truncate(SIZE / 2);
        }
        IOException e = assertThrows(IOException.class, () -> device.read(SIZE - 100, ByteBuffer.allocate(100)));
        assertTrue(e.getMessage().contains("disk.img ends at byte"), e.getMessage());
    }
}
