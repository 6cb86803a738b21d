package dev.ihop.store;

import dev.ihop.store.proto.StoreDictionaryProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * Rebuilds a release's image straight from FORMATS.md section 5, sharing no code with
 * {@link ChunkStore} or {@link StoreDictionaryCodec}: proof that what we write is what
 * the format says.
 */
final class IndependentStoreReader {
    private IndependentStoreReader() {
    }

    static byte[] rebuild(Path release) throws IOException {
        byte[] file = Files.readAllBytes(release);
        if (!Arrays.equals(Arrays.copyOf(file, 6), new byte[] {0x49, 0x48, 0x4F, 0x50, 0x31, 0x00})) {
            throw new AssertionError("bad magic");
        }
        int n = (int) ByteBuffer.wrap(file, 6, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (file.length != 14 + n + 64) {
            throw new AssertionError("bad length");
        }
        Blake2bDigest digest = new Blake2bDigest(512);
        digest.update(file, 0, 14 + n);
        byte[] sum = new byte[64];
        digest.doFinal(sum, 0);
        if (!Arrays.equals(sum, Arrays.copyOfRange(file, 14 + n, file.length))) {
            throw new AssertionError("bad dictionary checksum");
        }
        var dict = StoreDictionaryProto.StoreDictionary.parseFrom(Arrays.copyOfRange(file, 14, 14 + n));
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        Path root = release.getParent();
        for (int index : dict.getSourceOrderList()) {
            byte[] hash = dict.getChunkDescriptors(index).getChecksum().toByteArray();
            String hex = HexFormat.of().formatHex(hash);
            image.write(Files.readAllBytes(root.resolve("chunks").resolve(hex.substring(0, 4)).resolve(hex + ".chunk")));
        }
        byte[] out = image.toByteArray();
        if (out.length != dict.getSourceTotalSize()) {
            throw new AssertionError("image size " + out.length + " != " + dict.getSourceTotalSize());
        }
        digest.update(out, 0, out.length);
        digest.doFinal(sum, 0);
        if (!Arrays.equals(sum, dict.getSourceChecksum().toByteArray())) {
            throw new AssertionError("image does not match the source checksum");
        }
        return out;
    }
}
