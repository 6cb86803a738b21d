package dev.ihop.format;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * Random access to the bytes of an archive: a local file, an HTTP(S) URL. Every read
 * returns exactly the bytes asked for or throws; a source never returns short data.
 */
public interface ArchiveSource extends Closeable {

    /** Where the bytes come from (path or URL), for messages. */
    String describe();

    /** Total size in bytes. */
    long size() throws IOException;

    /** Reads exactly {@code length} bytes at {@code offset}. */
    byte[] read(long offset, int length) throws IOException;

    /** Receives the bytes of one range of a {@link #readRanges} call. */
    @FunctionalInterface
    interface RangeConsumer {
        /**
         * @param index position of the range in the list given to {@code readRanges}
         * @param data  exactly the range's bytes, in an array the consumer owns (keep it, hand it on)
         */
        void accept(int index, byte[] data) throws IOException;
    }

    /**
     * Reads many ranges, sorted by offset and not overlapping, handing each to
     * {@code consumer} in list order. Implementations may merge neighbouring ranges into
     * fewer requests and run several requests at once; the consumer is called from one
     * thread at a time, in order.
     */
    default void readRanges(List<ByteRange> ranges, RangeConsumer consumer) throws IOException {
        ByteRange.checkSorted(ranges);
        for (int i = 0; i < ranges.size(); i++) {
            ByteRange r = ranges.get(i);
            consumer.accept(i, read(r.offset(), r.length()));
        }
    }
}
