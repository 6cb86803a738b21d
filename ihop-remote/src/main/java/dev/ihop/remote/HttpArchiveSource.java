package dev.ihop.remote;

import dev.ihop.format.ArchiveSource;
import dev.ihop.format.ByteRange;
import dev.ihop.format.MalformedInputException;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;

/**
 * An archive behind an {@code http://} or {@code https://} URL, read with range requests
 * over HTTP/1.1 keep-alive (one connection, reused while reads run one after another).
 * Certificates are verified with the JDK's trust store.
 *
 * <p>Every answer is checked before its bytes are used: a {@code 206} must carry a
 * {@code Content-Range} naming exactly the bytes asked for, with a total that agrees with
 * the size seen before, and a body of exactly that length. A server that ignores
 * {@code Range} and answers {@code 200} with the whole file is read up to the last byte
 * wanted and then dropped. Any failure is an {@link IOException} whose message is one line
 * starting with the URL.
 *
 * <p>{@link #readRanges} merges ranges at most {@link #MAX_GAP} apart into one request of at
 * most {@link #MAX_REQUEST_BYTES} and streams the answer: each range is handed on as soon as
 * its last byte arrives, so memory is bounded by the largest range, not by the request or
 * the archive. When a request fails, the retry asks only for what has not arrived yet.
 *
 * <p>Thread-safe; a call's bytes reach its consumer on the calling thread, in list order.
 */
public final class HttpArchiveSource implements ArchiveSource {
    /**
     * Ranges at most this far apart are fetched in one request, the gap read and dropped:
     * on any real link a round trip costs more than 4 KiB of transfer.
     */
    public static final int MAX_GAP = 4096;
    /** Upper bound of one merged request (a single larger range is still asked for whole). */
    public static final int MAX_REQUEST_BYTES = 16 << 20;

    private static final int SKIP_BUFFER_SIZE = 64 << 10;
    private static final byte[] EMPTY = new byte[0];
    private static final Pattern CONTENT_RANGE =
            Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d{1,18}|\\*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern UNSATISFIED_RANGE =
            Pattern.compile("bytes \\*/(\\d{1,18})", Pattern.CASE_INSENSITIVE);

    private final URI uri;
    private final HttpOptions options;
    private final HttpClient client;
    private final ScheduledExecutorService stallTimer;
    private final HttpStats stats = new HttpStats();
    private volatile long size = -1;

    public HttpArchiveSource(URI uri) {
        this(uri, HttpOptions.defaults());
    }

    /**
     * @throws IllegalArgumentException if the URL is not http(s) with a host, or a header
     *                                  cannot be sent (HttpClient reserves some, such as Host)
     */
    public HttpArchiveSource(URI uri, HttpOptions options) {
        this(uri, options, null);
    }

    /**
     * With the TLS setup to use for {@code https}, e.g. one trusting a private CA; null for
     * the JDK default (its trust store). Certificates and host names are verified either way.
     */
    public HttpArchiveSource(URI uri, HttpOptions options, SSLContext tls) {
        this.uri = Objects.requireNonNull(uri, "uri");
        this.options = Objects.requireNonNull(options, "options");
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException(uri + ": not an http:// or https:// URL with a host");
        }
        try {
            request(0, 1);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(uri + ": cannot send the given headers: " + e.getMessage(), e);
        }
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(options.timeout())
                .followRedirects(HttpClient.Redirect.NORMAL);
        if (tls != null) {
            builder.sslContext(tls);
        }
        this.client = builder.build();
        this.stallTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ihop-http-stall-timer");
            t.setDaemon(true);
            return t;
        });
    }

    public URI uri() {
        return uri;
    }

    public HttpOptions options() {
        return options;
    }

    /** Requests and bytes so far, for progress output. */
    public HttpStats stats() {
        return stats;
    }

    @Override
    public String describe() {
        return uri.toString();
    }

    /** The size from the first answer that told it (cached), else from a {@code Range: bytes=0-0} request. */
    @Override
    public long size() throws IOException {
        long known = size;
        if (known >= 0) {
            return known;
        }
        long total = withRetries(this::fetchSize, () -> 0);
        noteSize(total);
        return total;
    }

    /** Reads exactly {@code length} bytes at {@code offset} with one range request. */
    @Override
    public byte[] read(long offset, int length) throws IOException {
        ByteRange range = new ByteRange(offset, length);
        byte[][] result = new byte[1][];
        // Safe to keep the consumer's array: this class allocates one per range and never reuses it.
        new Transfer(List.of(range), (index, data) -> result[0] = data).run();
        return result[0];
    }

    @Override
    public void readRanges(List<ByteRange> ranges, RangeConsumer consumer) throws IOException {
        checkSorted(ranges);
        Objects.requireNonNull(consumer, "consumer");
        new Transfer(List.copyOf(ranges), consumer).run();
    }

    @Override
    public void close() {
        stallTimer.shutdownNow();
        client.shutdownNow();
    }

    // ---- one readRanges call ----

    /**
     * The state of one readRanges call, kept across attempts so that a retry resumes at the
     * first byte not yet received: {@code next} is the range being filled, {@code filled}
     * how much of it has arrived.
     */
    private final class Transfer {
        private final List<ByteRange> ranges;
        private final RangeConsumer consumer;
        private int next;
        private byte[] current;
        private int filled;
        private long received;
        private byte[] skipBuffer;

        Transfer(List<ByteRange> ranges, RangeConsumer consumer) {
            this.ranges = ranges;
            this.consumer = consumer;
        }

        void run() throws IOException {
            while (true) {
                // Nothing to fetch for an empty range; it is checked against the size if known.
                while (next < ranges.size() && ranges.get(next).length() == 0) {
                    long known = size;
                    if (known >= 0 && ranges.get(next).offset() > known) {
                        throw new EOFException(uri + ": wanted bytes at " + ranges.get(next).offset()
                                + " but the file has " + known + " bytes");
                    }
                    consumer.accept(next++, EMPTY);
                }
                if (next == ranges.size()) {
                    return;
                }
                withRetries(() -> {
                    fetchGroup();
                    return null;
                }, () -> received);
            }
        }

        /** One request for the next run of ranges, from the first byte not yet received. */
        private void fetchGroup() throws IOException, AttemptFailed {
            ByteRange first = ranges.get(next);
            long start = first.offset() + filled;
            long end = first.end();
            int last = next;
            while (last + 1 < ranges.size()) {
                ByteRange r = ranges.get(last + 1);
                if (r.offset() - end > MAX_GAP || r.end() - start > MAX_REQUEST_BYTES) {
                    break;
                }
                end = Math.max(end, r.end());
                last++;
            }
            String asked = "bytes " + start + "-" + (end - 1);
            HttpResponse<InputStream> response = send(request(start, end), asked);
            try (StallGuardedInputStream body = guard(response)) {
                switch (response.statusCode()) {
                    case 206 -> {
                        checkPartial(response, start, end, asked);
                        deliver(body, start, last, asked);
                        expectEnd(body, end - start, asked);
                    }
                    case 200 -> {
                        // The server ignored Range: the body is the whole file, which serves
                        // every remaining range in one pass. What follows the last is not read.
                        checkEncoding(response);
                        OptionalLong total = response.headers().firstValueAsLong("Content-Length");
                        if (total.isPresent() && total.getAsLong() < 0) {
                            throw malformed("server announced a negative Content-Length " + total.getAsLong(), false);
                        }
                        if (total.isPresent()) {
                            noteSize(total.getAsLong());
                            long wantedEnd = ranges.getLast().end();
                            if (wantedEnd > total.getAsLong()) {
                                throw new AttemptFailed(new EOFException(uri + ": wanted bytes up to " + wantedEnd
                                        + " but the file has " + total.getAsLong()), false);
                            }
                        }
                        deliver(body, 0, ranges.size() - 1, "the whole file (the server ignored the range request)");
                    }
                    case 416 -> throw unsatisfiable(response, asked);
                    default -> throw statusFailure(response.statusCode(), asked);
                }
            }
        }

        /** Hands ranges {@code next..last} to the consumer as the body streams past. */
        private void deliver(StallGuardedInputStream body, long bodyStart, int last, String what)
                throws IOException, AttemptFailed {
            long pos = bodyStart;
            for (int i = next; i <= last; i++) {
                ByteRange r = ranges.get(i);
                long want = r.offset() + filled;
                pos = skip(body, pos, want, what, bodyStart);
                if (current == null) {
                    current = new byte[r.length()];
                }
                while (filled < r.length()) {
                    int n = readBody(body, current, filled, r.length() - filled, what, pos - bodyStart);
                    filled += n;
                    pos += n;
                    received += n;
                }
                byte[] data = current;
                current = null;
                filled = 0;
                next = i + 1;
                consumer.accept(i, data);
            }
        }

        /** Reads and drops the body from {@code pos} up to {@code target}: a gap between merged ranges. */
        private long skip(StallGuardedInputStream body, long pos, long target, String what, long bodyStart)
                throws IOException, AttemptFailed {
            if (pos < target && skipBuffer == null) {
                skipBuffer = new byte[SKIP_BUFFER_SIZE];
            }
            while (pos < target) {
                pos += readBody(body, skipBuffer, 0, (int) Math.min(skipBuffer.length, target - pos), what, pos - bodyStart);
            }
            return pos;
        }
    }

    // ---- requests and answers ----

    private HttpRequest request(long start, long end) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(options.timeout())
                .header("Range", "bytes=" + start + "-" + (end - 1))
                .header("Accept-Encoding", "identity");
        boolean userAgent = false;
        for (String h : options.headers()) {
            String name = HttpOptions.headerName(h);
            userAgent |= name.equalsIgnoreCase("User-Agent");
            b.header(name, HttpOptions.headerValue(h));
        }
        if (!userAgent) {
            b.header("User-Agent", "ihop");
        }
        return b.GET().build();
    }

    private HttpResponse<InputStream> send(HttpRequest request, String asked) throws IOException, AttemptFailed {
        stats.request();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new AttemptFailed(new IOException(uri + ": could not connect within " + seconds()), true);
        } catch (HttpTimeoutException e) {
            throw new AttemptFailed(new IOException(uri + ": no answer within " + seconds() + " to a request for " + asked, e), true);
        } catch (SSLHandshakeException e) {
            throw new AttemptFailed(new IOException(uri + ": TLS handshake failed: " + causeText(e), e), false);
        } catch (IOException e) {
            throw new AttemptFailed(new IOException(uri + ": request for " + asked + " failed: " + causeText(e), e), true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(uri + ": interrupted");
        }
    }

    private StallGuardedInputStream guard(HttpResponse<InputStream> response) {
        return new StallGuardedInputStream(response.body(), options.timeout(), stallTimer);
    }

    /** Reads at least one body byte; the end of the body or a broken connection fails the attempt. */
    private int readBody(StallGuardedInputStream body, byte[] buf, int off, int len, String what, long done)
            throws AttemptFailed {
        int n;
        try {
            n = body.read(buf, off, len);
        } catch (IOException e) {
            if (body.stalled()) {
                throw new AttemptFailed(new IOException(uri + ": no data for " + seconds() + " after " + done
                        + " bytes of " + what), true);
            }
            throw new AttemptFailed(new IOException(uri + ": connection broke after " + done + " bytes of "
                    + what + ": " + causeText(e), e), true);
        }
        if (n < 0) {
            throw new AttemptFailed(new EOFException(uri + ": body ended after " + done + " bytes of " + what), true);
        }
        stats.downloaded(n);
        return n;
    }

    /** A 206 must be exactly the bytes asked for: Content-Range, total size, Content-Length. */
    private void checkPartial(HttpResponse<?> response, long start, long end, String asked) throws AttemptFailed {
        checkEncoding(response);
        String header = response.headers().firstValue("Content-Range").orElse(null);
        Matcher m = header == null ? null : CONTENT_RANGE.matcher(header.strip());
        if (m == null || !m.matches()) {
            throw malformed("answered 206 with " + (header == null ? "no Content-Range" : "Content-Range \"" + header + "\"")
                    + " for a request of " + asked, true);
        }
        long first = Long.parseLong(m.group(1));
        long last = Long.parseLong(m.group(2));
        long total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
        String answered = "bytes " + first + "-" + last + "/" + m.group(3);
        if (first > last || (total >= 0 && last >= total)) {
            throw malformed("answered the impossible range " + answered + " for a request of " + asked, true);
        }
        if (total >= 0) {
            noteSizeInAttempt(total);
        }
        if (first != start || last != end - 1) {
            if (total >= 0 && end > total) {
                throw new AttemptFailed(new EOFException(uri + ": wanted " + asked + " but the file has " + total + " bytes"), false);
            }
            throw malformed("server answered " + answered + " for a request of " + asked, true);
        }
        OptionalLong length = response.headers().firstValueAsLong("Content-Length");
        if (length.isPresent() && length.getAsLong() != end - start) {
            throw malformed("server announced Content-Length " + length.getAsLong() + " for " + answered, true);
        }
    }

    /** Nothing was asked to be compressed; a compressed body's bytes are not the file's. */
    private void checkEncoding(HttpResponse<?> response) throws AttemptFailed {
        String encoding = response.headers().firstValue("Content-Encoding").orElse("identity").strip();
        if (!encoding.equalsIgnoreCase("identity")) {
            throw malformed("server sent the body with Content-Encoding " + encoding, false);
        }
    }

    private void expectEnd(StallGuardedInputStream body, long length, String asked) throws AttemptFailed {
        int extra;
        try {
            extra = body.read();
        } catch (IOException e) {
            throw new AttemptFailed(new IOException(uri + ": connection broke at the end of " + asked + ": " + causeText(e), e), true);
        }
        if (extra >= 0) {
            throw malformed("server sent more than the " + length + " bytes of " + asked, true);
        }
    }

    private long fetchSize() throws IOException, AttemptFailed {
        HttpResponse<InputStream> response = send(request(0, 1), "bytes 0-0");
        try (StallGuardedInputStream body = guard(response)) {
            switch (response.statusCode()) {
                case 206 -> {
                    String header = response.headers().firstValue("Content-Range").orElse("");
                    Matcher m = CONTENT_RANGE.matcher(header.strip());
                    if (!m.matches() || !m.group(1).equals("0") || !m.group(2).equals("0")) {
                        throw malformed("answered 206 with Content-Range \"" + header + "\" for a request of bytes 0-0", true);
                    }
                    if (m.group(3).equals("*")) {
                        throw malformed("server does not tell the file size (Content-Range: " + header + ")", false);
                    }
                    readBody(body, new byte[1], 0, 1, "bytes 0-0", 0);
                    expectEnd(body, 1, "bytes 0-0");
                    return Long.parseLong(m.group(3));
                }
                case 200 -> {
                    // The server ignores Range; closing the body drops the connection instead of reading the file.
                    long length = response.headers().firstValueAsLong("Content-Length").orElseThrow(() ->
                            malformed("server ignores range requests and does not announce the file size", false));
                    if (length < 0) {
                        throw malformed("server announced a negative Content-Length " + length, false);
                    }
                    return length;
                }
                case 416 -> {
                    // An empty file: no byte 0 to send.
                    Matcher m = UNSATISFIED_RANGE.matcher(response.headers().firstValue("Content-Range").orElse("").strip());
                    if (m.matches()) {
                        return Long.parseLong(m.group(1));
                    }
                    throw statusFailure(416, "bytes 0-0");
                }
                default -> throw statusFailure(response.statusCode(), "bytes 0-0");
            }
        }
    }

    private AttemptFailed unsatisfiable(HttpResponse<?> response, String asked) {
        Matcher m = UNSATISFIED_RANGE.matcher(response.headers().firstValue("Content-Range").orElse("").strip());
        if (m.matches()) {
            return new AttemptFailed(new EOFException(uri + ": HTTP 416 " + reason(416) + ": wanted " + asked
                    + " but the file has " + m.group(1) + " bytes"), false);
        }
        return statusFailure(416, asked);
    }

    private AttemptFailed statusFailure(int status, String asked) {
        // 5xx, request timeout and rate limiting may pass; other answers will not change.
        boolean transientStatus = status >= 500 || status == 408 || status == 429;
        String reason = reason(status);
        return new AttemptFailed(new HttpStatusException(uri + ": HTTP " + status + (reason.isEmpty() ? "" : " " + reason)
                + " (for " + asked + ")", status), transientStatus);
    }

    private AttemptFailed malformed(String what, boolean retryable) {
        return new AttemptFailed(new MalformedInputException(uri + ": " + what), retryable);
    }

    private void noteSizeInAttempt(long total) throws AttemptFailed {
        try {
            noteSize(total);
        } catch (IOException e) {
            throw new AttemptFailed(e, false);
        }
    }

    private void noteSize(long total) throws IOException {
        long known = size;
        if (known < 0) {
            size = total;
        } else if (known != total) {
            throw new IOException(uri + ": the file changed size from " + known + " to " + total + " bytes");
        }
    }

    private String seconds() {
        long ms = options.timeout().toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    // ---- retries ----

    /** An attempt went wrong; {@link #withRetries} decides whether to try again. */
    private static final class AttemptFailed extends Exception {
        private static final long serialVersionUID = 1L;
        final IOException failure;
        final boolean retryable;

        AttemptFailed(IOException failure, boolean retryable) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
            this.retryable = retryable;
        }

        /** The exception to throw after {@code attempts} failures in a row. */
        IOException failure(int attempts) {
            if (attempts <= 1) {
                return failure;
            }
            String message = failure.getMessage() + " (failed " + attempts + " times in a row)";
            IOException e = switch (failure) {
                case HttpStatusException s -> new HttpStatusException(message, s.status());
                case MalformedInputException m -> new MalformedInputException(message, m.getCause());
                case EOFException eof -> new EOFException(message);
                default -> new IOException(message, failure.getCause());
            };
            return e;
        }
    }

    private interface Attempt<T> {
        T run() throws IOException, AttemptFailed;
    }

    /**
     * Runs {@code attempt} until it succeeds, fails for good, or has failed more than
     * {@code retries} times in a row without {@code progress} moving.
     */
    private <T> T withRetries(Attempt<T> attempt, LongSupplier progress) throws IOException {
        int failures = 0;
        while (true) {
            long before = progress.getAsLong();
            try {
                return attempt.run();
            } catch (AttemptFailed f) {
                failures = progress.getAsLong() != before ? 1 : failures + 1;
                if (!f.retryable || failures > options.retries()) {
                    throw f.failure(failures);
                }
                try {
                    // An interrupted body read surfaces as an IOException; do not retry after it.
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                    stats.retry();
                    Thread.sleep(options.retryDelay());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(uri + ": interrupted");
                }
            }
        }
    }

    // ---- small helpers ----

    private static void checkSorted(List<ByteRange> ranges) {
        long end = 0;
        for (ByteRange r : ranges) {
            Objects.requireNonNull(r, "range");
            if (r.offset() < end) {
                throw new IllegalArgumentException("ranges must be sorted and must not overlap: " + r);
            }
            end = r.end();
        }
    }

    /**
     * The innermost message along the cause chain: HttpClient wraps the telling exception
     * (EOF, connection reset, refused) in ones that say only "closed" or nothing.
     */
    private static String causeText(Throwable e) {
        String text = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                text = t.getMessage().strip().replace('\n', ' ');
            }
        }
        return text != null ? text : e.getClass().getSimpleName();
    }

    // HttpClient does not expose the reason phrase, so the common ones are named here.
    private static String reason(int status) {
        return switch (status) {
            case 301 -> "Moved Permanently";
            case 302 -> "Found";
            case 304 -> "Not Modified";
            case 307 -> "Temporary Redirect";
            case 308 -> "Permanent Redirect";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 410 -> "Gone";
            case 416 -> "Range Not Satisfiable";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "";
        };
    }
}
