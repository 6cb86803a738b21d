package dev.ihop.remote;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small HTTP/1.1 file server on 127.0.0.1 that misbehaves on request: wrong status, cut
 * or stalled bodies, lying Content-Range or Content-Length, Range ignored. Hand-written on
 * raw sockets because no real server can be told to break a response halfway. Faults are
 * queued with {@link #failNext} (one per request, in order) or set with {@link #failAlways};
 * without faults it serves byte ranges correctly, with keep-alive. Every request is
 * recorded for assertions (e.g. that a retry asked only for the missing bytes).
 */
public final class FaultyHttpServer implements AutoCloseable {

    public enum Kind {
        /** Answer with the given status and a short text body. */
        STATUS,
        /** Send the headers and {@code bytes} of the body, then close the connection. */
        CUT,
        /** Send the headers and {@code bytes} of the body, then pause for {@code pause}, then the rest. */
        STALL_BODY,
        /** Pause for {@code pause} before sending anything. */
        STALL_HEADERS,
        /** Serve the range shifted by {@code bytes}, with a Content-Range that says so. */
        SHIFTED_RANGE,
        /** Correct Content-Range, but Content-Length and body {@code bytes} short; keep the connection. */
        SHORT_BODY,
        /** Correct Content-Range, but {@code bytes} more body bytes than the range (and Content-Length to match). */
        LONG_BODY,
        /** Correct range, but a total size {@code bytes} larger than the file. */
        WRONG_TOTAL,
        /** Answer 200 with the whole file, as a server without range support does. */
        IGNORE_RANGE,
    }

    /** One misbehaviour; build with the static methods. */
    public record Fault(Kind kind, int status, long bytes, Duration pause) {
        public static Fault status(int status) {
            return new Fault(Kind.STATUS, status, 0, Duration.ZERO);
        }

        public static Fault cutAfter(long bodyBytes) {
            return new Fault(Kind.CUT, 0, bodyBytes, Duration.ZERO);
        }

        public static Fault stallAfter(long bodyBytes, Duration pause) {
            return new Fault(Kind.STALL_BODY, 0, bodyBytes, pause);
        }

        public static Fault stallHeaders(Duration pause) {
            return new Fault(Kind.STALL_HEADERS, 0, 0, pause);
        }

        public static Fault shiftedRange(long shift) {
            return new Fault(Kind.SHIFTED_RANGE, 0, shift, Duration.ZERO);
        }

        public static Fault shortBody(long missing) {
            return new Fault(Kind.SHORT_BODY, 0, missing, Duration.ZERO);
        }

        public static Fault longBody(long extra) {
            return new Fault(Kind.LONG_BODY, 0, extra, Duration.ZERO);
        }

        public static Fault wrongTotal(long extra) {
            return new Fault(Kind.WRONG_TOTAL, 0, extra, Duration.ZERO);
        }

        public static Fault ignoreRange() {
            return new Fault(Kind.IGNORE_RANGE, 0, 0, Duration.ZERO);
        }
    }

    /**
     * A request as received.
     *
     * @param connection which connection (1, 2, ...) it came on
     * @param range      the Range header, or null
     * @param headers    all headers, names lower-cased
     */
    public record Request(int connection, String method, String path, String range, Map<String, String> headers) {}

    private static final int MAX_HEAD = 64 << 10;
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d{0,18})-(\\d{0,18})");

    private final ServerSocket listener;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Deque<Fault> nextFaults = new ArrayDeque<>();
    private volatile Fault alwaysFault;
    private final List<Request> requests = new ArrayList<>();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connections = new AtomicInteger();

    private FaultyHttpServer(ServerSocket listener) {
        this.listener = listener;
    }

    public static FaultyHttpServer start() throws IOException {
        FaultyHttpServer server = new FaultyHttpServer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        server.threads.execute(server::acceptLoop);
        return server;
    }

    /** Serves {@code content} at {@code path} (e.g. {@code "/a.cba"}). */
    public FaultyHttpServer serve(String path, byte[] content) {
        files.put(path.startsWith("/") ? path : "/" + path, content);
        return this;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + listener.getLocalPort() + (path.startsWith("/") ? path : "/" + path));
    }

    /** The next requests get these faults, one each, in order; later ones are served normally. */
    public synchronized FaultyHttpServer failNext(Fault... faults) {
        nextFaults.addAll(List.of(faults));
        return this;
    }

    /** Every request gets this fault (after any queued ones); null serves normally again. */
    public FaultyHttpServer failAlways(Fault fault) {
        alwaysFault = fault;
        return this;
    }

    /** Drops queued faults not yet used. */
    public synchronized FaultyHttpServer clearFaults() {
        nextFaults.clear();
        return this;
    }

    public synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    public synchronized void clearRequests() {
        requests.clear();
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections.get();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
        threads.shutdownNow();
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try {
                Socket s = listener.accept();
                // Without this, Nagle's algorithm and delayed ACKs add 40 ms to many responses.
                s.setTcpNoDelay(true);
                sockets.add(s);
                int id = connections.incrementAndGet();
                threads.execute(() -> serveConnection(s, id));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serveConnection(Socket socket, int id) {
        try (socket; InputStream in = new BufferedInputStream(socket.getInputStream());
             OutputStream out = new BufferedOutputStream(socket.getOutputStream())) {
            while (true) {
                Request request = readRequest(in, id);
                if (request == null) {
                    return;
                }
                Fault fault;
                synchronized (this) {
                    requests.add(request);
                    fault = nextFaults.isEmpty() ? alwaysFault : nextFaults.poll();
                }
                if (!respond(request, fault, out)) {
                    return;
                }
                out.flush();
                if ("close".equalsIgnoreCase(request.headers().get("connection"))) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // Client went away or the server is closing.
        } finally {
            sockets.remove(socket);
        }
    }

    /** The next request's head, or null at the end of the connection. */
    private static Request readRequest(InputStream in, int id) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                throw new IOException("request head too long");
            }
            state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] requestLine = lines[0].split(" ");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
        }
        return new Request(id, requestLine[0], requestLine.length > 1 ? requestLine[1] : "/", headers.get("range"), headers);
    }

    /** Writes the answer; false when the connection must be closed. */
    private boolean respond(Request request, Fault fault, OutputStream out) throws IOException, InterruptedException {
        Kind kind = fault == null ? null : fault.kind();
        if (kind == Kind.STALL_HEADERS) {
            Thread.sleep(fault.pause());
        }
        if (kind == Kind.STATUS) {
            sendText(out, fault.status(), "fault injected");
            return true;
        }
        byte[] content = files.get(request.path());
        if (content == null) {
            sendText(out, 404, "not found");
            return true;
        }
        boolean head = request.method().equals("HEAD");
        long size = content.length;
        long[] range = request.range() == null || kind == Kind.IGNORE_RANGE ? null : parseRange(request.range(), size);
        if (range == null) {
            send(out, 200, "", content, 0, size, head);
            return true;
        }
        if (range.length == 0) {
            out.write(("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + size
                    + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            return true;
        }
        long first = range[0];
        long last = range[1];
        long total = size;
        long bodyLength = last - first + 1;
        if (kind == Kind.SHIFTED_RANGE) {
            long shift = first + fault.bytes() >= 0 && last + fault.bytes() < size ? fault.bytes() : -fault.bytes();
            first += shift;
            last += shift;
        } else if (kind == Kind.SHORT_BODY) {
            bodyLength = Math.max(0, bodyLength - fault.bytes());
        } else if (kind == Kind.LONG_BODY) {
            bodyLength = Math.min(size - first, bodyLength + fault.bytes());
        } else if (kind == Kind.WRONG_TOTAL) {
            total += fault.bytes();
        }
        String contentRange = "Content-Range: bytes " + first + "-" + last + "/" + total + "\r\n";
        if (kind == Kind.CUT) {
            writeHead(out, 206, contentRange, bodyLength);
            out.write(content, (int) first, (int) Math.min(fault.bytes(), bodyLength));
            out.flush();
            return false;
        }
        if (kind == Kind.STALL_BODY) {
            long part = Math.min(fault.bytes(), bodyLength);
            writeHead(out, 206, contentRange, bodyLength);
            out.write(content, (int) first, (int) part);
            out.flush();
            Thread.sleep(fault.pause());
            out.write(content, (int) (first + part), (int) (bodyLength - part));
            return true;
        }
        send(out, 206, contentRange, content, first, bodyLength, head);
        return true;
    }

    /** {first, last} of a single satisfiable range, {} when unsatisfiable, null when not a single byte range. */
    private static long[] parseRange(String header, long size) {
        Matcher m = RANGE.matcher(header.strip());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            return null;
        }
        long first;
        long last;
        if (m.group(1).isEmpty()) {
            long suffix = Long.parseLong(m.group(2));
            first = Math.max(0, size - suffix);
            last = size - 1;
        } else {
            first = Long.parseLong(m.group(1));
            last = m.group(2).isEmpty() ? size - 1 : Math.min(size - 1, Long.parseLong(m.group(2)));
            if (m.group(2).length() > 0 && Long.parseLong(m.group(2)) < first) {
                return null;
            }
        }
        if (first >= size || last < first) {
            return new long[0];
        }
        return new long[] {first, last};
    }

    private static void send(OutputStream out, int status, String extraHeaders, byte[] content, long offset, long length,
                             boolean head) throws IOException {
        writeHead(out, status, extraHeaders, length);
        if (!head) {
            out.write(content, (int) offset, (int) length);
        }
    }

    private static void sendText(OutputStream out, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.US_ASCII);
        writeHead(out, status, "Content-Type: text/plain\r\n", body.length);
        out.write(body);
    }

    private static void writeHead(OutputStream out, int status, String extraHeaders, long contentLength) throws IOException {
        String head = "HTTP/1.1 " + status + " " + (status == 200 ? "OK" : status == 206 ? "Partial Content" : "Fault") + "\r\n"
                + extraHeaders
                + "Content-Length: " + contentLength + "\r\n"
                + "\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
    }
}
