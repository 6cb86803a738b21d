package dev.ihop.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import java.util.SplittableRandom;
import org.bouncycastle.crypto.digests.Blake2bDigest;
import org.junit.jupiter.api.Test;

/** The hand-written BLAKE2b-512 against RFC 7693 and against Bouncy Castle. */
class Blake2bTest {

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] bouncyCastle(byte[] data, int offset, int length) {
        Blake2bDigest d = new Blake2bDigest(512);
        d.update(data, offset, length);
        byte[] out = new byte[64];
        d.doFinal(out, 0);
        return out;
    }

    @Test
    void rfc7693AppendixA() {
        assertEquals("ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
                hex(Blake2b.of("abc".getBytes(), 0, 3)));
    }

    @Test
    void emptyMessage() {
        // BLAKE2b-512("") as published with the reference implementation.
        String expected = "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                + "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce";
        assertEquals(expected, hex(Blake2b.of(new byte[0], 0, 0)));
        assertEquals(expected, hex(new Blake2b().digest()));
    }

    @Test
    void matchesBouncyCastleForEveryLengthUpTo1000() {
        byte[] data = new byte[1000 + 7];
        new SplittableRandom(1).nextBytes(data);
        for (int length = 0; length <= 1000; length++) {
            int offset = length % 7; // unaligned starts too
            assertEquals(hex(bouncyCastle(data, offset, length)), hex(Blake2b.of(data, offset, length)), "length " + length);
        }
    }

    @Test
    void splitUpdatesGiveTheSameDigest() {
        SplittableRandom random = new SplittableRandom(2);
        byte[] data = new byte[4000];
        random.nextBytes(data);
        Blake2b hasher = new Blake2b(); // reused across messages: digest() resets it
        for (int trial = 0; trial < 2000; trial++) {
            int length = random.nextInt(data.length + 1);
            int pos = 0;
            while (pos < length) {
                // Pieces around the block size matter most: 0, 1, 127, 128, 129, ...
                int piece = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(3);
                    case 1 -> 127 + random.nextInt(3);
                    case 2 -> 256 * random.nextInt(1, 3) + random.nextInt(-1, 2);
                    default -> random.nextInt(600);
                };
                piece = Math.min(piece, length - pos);
                hasher.update(data, pos, piece);
                pos += piece;
            }
            assertArrayEquals(bouncyCastle(data, 0, length), hasher.digest(), "trial " + trial + ", length " + length);
        }
    }

    @Test
    void matchesBouncyCastleOnLargeInput() {
        byte[] data = new byte[(3 << 20) + 77];
        new SplittableRandom(3).nextBytes(data);
        assertArrayEquals(bouncyCastle(data, 0, data.length), Blake2b.of(data, 0, data.length));
    }

    @Test
    void rejectsRangesOutsideTheArray() {
        assertThrows(IndexOutOfBoundsException.class, () -> new Blake2b().update(new byte[10], 5, 6));
        assertThrows(IndexOutOfBoundsException.class, () -> new Blake2b().update(new byte[10], -1, 2));
    }
}
