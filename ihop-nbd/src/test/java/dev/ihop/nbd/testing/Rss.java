package dev.ihop.nbd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident set sizes from {@code /proc/PID/status} (Linux). */
public final class Rss {
    private Rss() {}

    /** VmHWM, the peak resident set size of process {@code pid}, in bytes. */
    public static long peak(long pid) throws IOException {
        return field(pid, "VmHWM:");
    }

    /** VmRSS, the current resident set size, in bytes. */
    public static long current(long pid) throws IOException {
        return field(pid, "VmRSS:");
    }

    private static long field(long pid, String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(name)) {
                String[] parts = line.substring(name.length()).trim().split("\\s+");
                if (!parts[1].equals("kB")) {
                    throw new IOException("unexpected unit in /proc/" + pid + "/status: " + line);
                }
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        throw new IOException("no " + name + " in /proc/" + pid + "/status");
    }
}
