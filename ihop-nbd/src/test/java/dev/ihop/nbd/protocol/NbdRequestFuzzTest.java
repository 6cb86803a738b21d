package dev.ihop.nbd.protocol;

import static dev.ihop.nbd.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ihop.format.MalformedInputException;
import dev.ihop.format.Mutator;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the NBD decoders a client's bytes reach: the transmission request header with its
 * one validation ({@link Request#check}), the option header and the NBD_OPT_INFO/GO data.
 * 50,000 seeded mutations of valid messages each. A request header either fails on its
 * magic or decodes; a request that {@code check} lets through is a read inside the export
 * of at most {@link NbdProtocol#MAX_REQUEST_LENGTH} bytes, a flush or a disconnect, never
 * anything that writes. Option data is accepted or refused with
 * {@link MalformedInputException}, nothing else. Why a seeded mutator rather than Jazzer:
 * see {@code dev.ihop.format.ArchiveHeaderFuzzTest}.
 */
class NbdRequestFuzzTest {
    static final int ITERATIONS = Integer.getInteger("ihop.fuzzIterations", 20_000) * 5 / 2;
    static final long EXPORT_SIZE = 1L << 30;

    @Test
    void requestHeadersPassCheckOnlyWhenSafe() {
        long seed = Long.getLong("ihop.fuzzSeed", System.nanoTime());
        System.out.println("NbdRequestFuzzTest seed: " + seed + " (replay with -Dihop.fuzzSeed=" + seed + ")");
        Mutator mutator = new Mutator(seed);
        byte[][] corpus = new byte[4][REQUEST_SIZE];
        Request.encode(ByteBuffer.wrap(corpus[0]), 0, NBD_CMD_READ, 1, 4096, 65536);
        Request.encode(ByteBuffer.wrap(corpus[1]), NBD_CMD_FLAG_DF, NBD_CMD_READ, 2, EXPORT_SIZE - 512, 512);
        Request.encode(ByteBuffer.wrap(corpus[2]), 0, NBD_CMD_FLUSH, 3, 0, 0);
        Request.encode(ByteBuffer.wrap(corpus[3]), 0, NBD_CMD_WRITE, 4, 0, 4096);
        Request request = new Request();
        int ok = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] input = mutator.mutate(corpus[mutator.random().nextInt(corpus.length)]);
            // The server always reads exactly REQUEST_SIZE bytes; shorter or longer mutations are cut or padded.
            byte[] header = java.util.Arrays.copyOf(input, REQUEST_SIZE);
            try {
                request.decode(ByteBuffer.wrap(header));
            } catch (MalformedInputException e) {
                assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
                continue;
            } catch (RuntimeException e) {
                fail("iteration " + i + " (seed " + seed + "): " + e + " for " + HexFormat.of().formatHex(header), e);
            }
            boolean structured = mutator.random().nextBoolean();
            int verdict = request.check(EXPORT_SIZE, structured);
            if (verdict == NBD_OK) {
                ok++;
                switch (request.type()) {
                    case NBD_CMD_READ -> {
                        assertTrue(request.length() > 0 && request.length() <= MAX_REQUEST_LENGTH, request.toString());
                        assertTrue(request.offset() >= 0 && request.offset() + request.length() <= EXPORT_SIZE, request.toString());
                    }
                    case NBD_CMD_FLUSH, NBD_CMD_DISC -> assertEquals(0, request.payloadLength());
                    default -> fail("check let through " + request);
                }
            } else {
                assertTrue(verdict == NBD_EINVAL || verdict == NBD_EPERM || verdict == NBD_EOVERFLOW, "NBD error " + verdict);
            }
        }
        System.out.printf("NBD request fuzz: %d headers, %d passed check%n", ITERATIONS, ok);
        assertTrue(ok > 0, "some mutations stay valid");
    }

    @Test
    void optionDataIsAcceptedOrRefusedCleanly() {
        long seed = Long.getLong("ihop.fuzzSeed", System.nanoTime());
        System.out.println("NbdRequestFuzzTest options seed: " + seed);
        Mutator mutator = new Mutator(seed);
        ByteBuffer go = ByteBuffer.allocate(4 + 8 + 2 + 4);
        go.putInt(8).put("disk.img".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putShort((short) 2)
                .putShort((short) NBD_INFO_BLOCK_SIZE).putShort((short) NBD_INFO_NAME);
        byte[] header = new byte[Options.OPTION_HEADER_SIZE];
        Options.OptionHeader.encode(ByteBuffer.wrap(header), NBD_OPT_GO, go.capacity());
        int accepted = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            byte[] data = mutator.mutate(go.array());
            byte[] head = java.util.Arrays.copyOf(mutator.mutate(header), Options.OPTION_HEADER_SIZE);
            try {
                Options.OptionHeader h = Options.OptionHeader.decode(ByteBuffer.wrap(head));
                assertTrue(h.length() >= 0 && h.length() <= 0xFFFF_FFFFL);
            } catch (MalformedInputException e) {
                assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
            } catch (RuntimeException e) {
                fail("option header, iteration " + i + " (seed " + seed + "): " + e, e);
            }
            try {
                Options.InfoRequest r = Options.InfoRequest.decode(ByteBuffer.wrap(data));
                assertTrue(r.exportName().length() <= data.length && r.infoTypes().length * 2 <= data.length);
                accepted++;
            } catch (MalformedInputException e) {
                assertTrue(!e.getMessage().contains("\n"));
            } catch (RuntimeException e) {
                fail("NBD_OPT_GO data, iteration " + i + " (seed " + seed + "): " + e + " for " + HexFormat.of().formatHex(data), e);
            }
        }
        System.out.printf("NBD option fuzz: %d inputs, %d accepted%n", ITERATIONS, accepted);
        assertTrue(accepted > 0);
    }
}
