package dev.ihop.remote;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * How an {@link HttpArchiveSource} talks to its server.
 *
 * @param retries    how many times a failed request is tried again before giving up (0: fail at
 *                   the first error, as bita does by default). A retry asks only for the bytes not
 *                   yet received, and the count starts again after any attempt that made progress.
 * @param retryDelay pause before each retry
 * @param timeout    limit for connecting, for waiting for the response headers, and for any
 *                   pause in the middle of a response body
 * @param headers    extra request headers, each {@code "Name: value"} (authorization, cookies)
 */
public record HttpOptions(int retries, Duration retryDelay, Duration timeout, List<String> headers) {

    /** Headers the source sets itself; letting the user set them would break the range checks. */
    private static final Set<String> RESERVED = Set.of("range", "if-range", "accept-encoding");

    public HttpOptions {
        if (retries < 0) {
            throw new IllegalArgumentException("retry count must not be negative: " + retries);
        }
        Objects.requireNonNull(retryDelay, "retryDelay");
        Objects.requireNonNull(timeout, "timeout");
        if (retryDelay.isNegative()) {
            throw new IllegalArgumentException("retry delay must not be negative: " + retryDelay);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
        headers = List.copyOf(headers);
        for (String h : headers) {
            headerName(h);
        }
    }

    /** No retries, 1 s between retries when enabled, 30 s timeout, no extra headers. */
    public static HttpOptions defaults() {
        return new HttpOptions(0, Duration.ofSeconds(1), Duration.ofSeconds(30), List.of());
    }

    public HttpOptions withRetries(int retries) {
        return new HttpOptions(retries, retryDelay, timeout, headers);
    }

    public HttpOptions withRetryDelay(Duration retryDelay) {
        return new HttpOptions(retries, retryDelay, timeout, headers);
    }

    public HttpOptions withTimeout(Duration timeout) {
        return new HttpOptions(retries, retryDelay, timeout, headers);
    }

    public HttpOptions withHeaders(List<String> headers) {
        return new HttpOptions(retries, retryDelay, timeout, headers);
    }

    /** The name part of a {@code "Name: value"} header, checked. */
    static String headerName(String header) {
        int colon = header.indexOf(':');
        String name = colon < 0 ? "" : header.substring(0, colon).strip();
        if (name.isEmpty() || !name.chars().allMatch(HttpOptions::isTokenChar)) {
            throw new IllegalArgumentException("not a header of the form \"Name: value\": " + header);
        }
        if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("header " + name + " is set by ihop itself and cannot be given");
        }
        return name;
    }

    /** The value part of a {@code "Name: value"} header (already checked by the constructor). */
    static String headerValue(String header) {
        return header.substring(header.indexOf(':') + 1).strip();
    }

    // RFC 9110 token characters.
    private static boolean isTokenChar(int c) {
        return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
}
