package dev.ihop.format;

import java.io.IOException;

/**
 * Untrusted bytes (an archive, a store dictionary, a network message) do not have the
 * expected shape. The message names the input, the field or offset and what is wrong, so
 * that it can be printed as one line.
 */
public final class MalformedInputException extends IOException {
    private static final long serialVersionUID = 1L;

    public MalformedInputException(String message) {
        super(message);
    }

    public MalformedInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** One-line check before each use of an untrusted value. */
    public static void verify(boolean condition, String where, String reason) throws MalformedInputException {
        if (!condition) {
            throw new MalformedInputException(where + ": " + reason);
        }
    }

    /** Same, for a byte offset within the input. */
    public static void verify(boolean condition, long offset, String reason) throws MalformedInputException {
        if (!condition) {
            throw new MalformedInputException("at offset " + offset + ": " + reason);
        }
    }
}
