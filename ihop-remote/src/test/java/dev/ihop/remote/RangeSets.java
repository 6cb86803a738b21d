package dev.ihop.remote;

import dev.ihop.format.ArchiveSource;
import dev.ihop.format.ByteRange;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random sorted, non-overlapping range sets and a way to collect what a source delivers. */
final class RangeSets {
    private RangeSets() {}

    /**
     * Ranges over a file of {@code size} bytes mixing the cases that matter: tiny (1 byte),
     * empty, adjacent, gaps just under and over {@link HttpArchiveSource#MAX_GAP}, large
     * gaps, and often a range ending at the last byte.
     */
    static List<ByteRange> random(Random rnd, long size) {
        List<ByteRange> ranges = new ArrayList<>();
        long pos = rnd.nextInt(3) == 0 ? 0 : rnd.nextLong(Math.max(1, size / 4));
        int count = 1 + rnd.nextInt(60);
        for (int i = 0; i < count && pos < size; i++) {
            int length = switch (rnd.nextInt(6)) {
                case 0 -> 1;
                case 1 -> 0;
                case 2 -> 1 + rnd.nextInt(64);
                case 3 -> 1 + rnd.nextInt(64 << 10);
                default -> 1 + rnd.nextInt(8 << 10);
            };
            length = (int) Math.min(length, size - pos);
            ranges.add(new ByteRange(pos, length));
            pos += length;
            long gap = switch (rnd.nextInt(5)) {
                case 0 -> 0;
                case 1 -> HttpArchiveSource.MAX_GAP - rnd.nextInt(2);
                case 2 -> HttpArchiveSource.MAX_GAP + 1 + rnd.nextInt(2);
                case 3 -> rnd.nextInt(100);
                default -> rnd.nextLong(Math.max(1, size / 8));
            };
            pos += gap;
        }
        if (rnd.nextBoolean() && size > 0) {
            long start = Math.max(ranges.isEmpty() ? 0 : ranges.getLast().end(), size - 1 - rnd.nextInt(5000));
            if (start < size) {
                ranges.add(new ByteRange(start, (int) (size - start)));
            }
        }
        return ranges;
    }

    /** What {@code source.readRanges} delivers, copied, checking that indexes arrive in order. */
    static List<byte[]> collect(ArchiveSource source, List<ByteRange> ranges) throws IOException {
        List<byte[]> out = new ArrayList<>();
        source.readRanges(ranges, (index, data) -> {
            if (index != out.size()) {
                throw new AssertionError("range " + index + " delivered when " + out.size() + " was due");
            }
            out.add(data.clone());
        });
        return out;
    }
}
