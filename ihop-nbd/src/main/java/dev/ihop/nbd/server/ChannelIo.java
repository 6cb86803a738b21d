package dev.ihop.nbd.server;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;

/** Whole-buffer reads and writes over blocking channels. */
final class ChannelIo {
    private ChannelIo() {}

    /** Reads until {@code dst} is full; EOF before that is an {@link EOFException} naming {@code what}. */
    static void readFully(ReadableByteChannel in, ByteBuffer dst, String what) throws IOException {
        while (dst.hasRemaining()) {
            if (in.read(dst) < 0) {
                throw new EOFException("client closed the connection in the middle of " + what);
            }
        }
    }

    static void writeFully(GatheringByteChannel out, ByteBuffer[] srcs) throws IOException {
        while (anyRemaining(srcs)) {
            out.write(srcs);
        }
    }

    static void writeFully(GatheringByteChannel out, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            out.write(src);
        }
    }

    private static boolean anyRemaining(ByteBuffer[] srcs) {
        for (ByteBuffer b : srcs) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }
}
