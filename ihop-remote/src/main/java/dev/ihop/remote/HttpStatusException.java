package dev.ihop.remote;

import java.io.IOException;

/** The server answered with an HTTP status other than the one asked for (404, 503, ...). */
public final class HttpStatusException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public HttpStatusException(String message, int status) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
