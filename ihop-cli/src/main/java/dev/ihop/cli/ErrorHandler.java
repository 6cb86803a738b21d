package dev.ihop.cli;

import dev.ihop.format.MalformedInputException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/**
 * Turns any exception a subcommand throws into one line on stderr and an exit code;
 * {@code -v} adds the stack trace.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    /** Exit code for bad input (malformed archive, checksum mismatch). */
    static final int BAD_INPUT = 2;
    /** Exit code for every other failure. */
    static final int FAILURE = 1;

    @Override
    public int handleExecutionException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        cli.getErr().println("ihop: " + message(t));
        if (Main.verbose) {
            t.printStackTrace(cli.getErr());
        }
        cli.getErr().flush();
        return t instanceof MalformedInputException ? BAD_INPUT : FAILURE;
    }

    /** One line for running out of heap, wherever it happened. */
    static String outOfMemory() {
        return "out of memory: the Java heap is limited to " + (Runtime.getRuntime().maxMemory() >> 20)
                + " MiB; give it more with JAVA_OPTS=-Xmx...";
    }

    static String message(Throwable t) {
        // A worker thread's OutOfMemoryError arrives wrapped in an IOException.
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfMemoryError) {
                return outOfMemory();
            }
        }
        String m = t.getMessage();
        return switch (t) {
            case NoSuchFileException n when n.getReason() != null -> n.getReason() + ": " + n.getFile();
            case NoSuchFileException n -> "no such file: " + n.getFile();
            case FileAlreadyExistsException f when f.getReason() != null -> "already exists: " + f.getFile() + " ("
                    + f.getReason() + "; use -f to replace it)";
            case FileAlreadyExistsException f -> "already exists: " + f.getFile() + " (use -f to replace it)";
            case AccessDeniedException a -> "permission denied: " + a.getFile();
            case FileNotFoundException f -> m;
            case IOException io when m != null -> m;
            default -> m != null ? m : t.getClass().getSimpleName();
        };
    }
}
