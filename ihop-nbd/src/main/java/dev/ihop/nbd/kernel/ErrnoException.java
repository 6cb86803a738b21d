package dev.ihop.nbd.kernel;

import java.io.IOException;

/** A system call failed; carries the call's name and errno. */
public final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String syscall;
    private final int errno;

    ErrnoException(String syscall, int errno, String description) {
        super(syscall + ": " + description + " (errno " + errno + ")");
        this.syscall = syscall;
        this.errno = errno;
    }

    public String syscall() {
        return syscall;
    }

    public int errno() {
        return errno;
    }
}
