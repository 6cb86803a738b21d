package dev.ihop.cli;

import java.util.Locale;
import picocli.CommandLine;

/** Byte counts on the command line ("65536", "64KiB", "16MiB", "1GiB") and in output. */
final class ByteSize implements CommandLine.ITypeConverter<Integer> {

    @Override
    public Integer convert(String value) {
        long n = parse(value);
        if (n > Integer.MAX_VALUE) {
            throw new CommandLine.TypeConversionException("size too large: " + value);
        }
        return (int) n;
    }

    static long parse(String value) {
        String v = value.trim();
        long unit = 1;
        String lower = v.toLowerCase(Locale.ROOT);
        String[][] units = {{"kib", "1024"}, {"mib", "1048576"}, {"gib", "1073741824"}, {"k", "1024"}, {"m", "1048576"}, {"g", "1073741824"}, {"b", "1"}};
        for (String[] u : units) {
            if (lower.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                v = v.substring(0, v.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new CommandLine.TypeConversionException("not a size: '" + value + "' (use bytes or a KiB/MiB/GiB suffix)");
        }
    }

    /** "1.5 MiB" style. */
    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
