package dev.ihop.remote;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real nginx serving a directory on 127.0.0.1, for integration tests: generated config
 * in a temp dir, foreground single process, an access log with the bytes sent per request
 * and the connection each request came on. Self-contained (JDK + JUnit only) so other
 * modules' tests can use it. Start with {@link #start}; {@link #close} stops it and
 * removes its temp dir (not the served root).
 */
public final class NginxServer implements AutoCloseable {

    /**
     * One access log line.
     *
     * @param connection         nginx's connection serial number ($connection)
     * @param connectionRequests requests so far on that connection ($connection_requests)
     * @param bodyBytesSent      response body bytes ($body_bytes_sent)
     * @param bytesSent          bytes including headers ($bytes_sent)
     * @param request            request line, e.g. {@code GET /a.cba HTTP/1.1}
     * @param range              the Range header, or {@code "-"}
     */
    public record AccessLogEntry(long connection, long connectionRequests, int status, long bodyBytesSent,
                                 long bytesSent, String request, String range) {}

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    /** A certificate chain and its key, PEM files, for {@code https}. */
    public record Tls(Path certificate, Path key) {}

    private final Process process;
    private final Path dir;
    private final Path root;
    private final int port;
    private final boolean https;

    private NginxServer(Process process, Path dir, Path root, int port, boolean https) {
        this.process = process;
        this.dir = dir;
        this.root = root;
        this.port = port;
        this.https = https;
    }

    /** Serves {@code root} as static files. */
    public static NginxServer start(Path root) throws IOException {
        return start(root, "");
    }

    /**
     * Serves {@code root}, with {@code serverDirectives} added inside the {@code server}
     * block (e.g. {@code "max_ranges 0;"} to make nginx ignore Range, or a {@code location}).
     */
    public static NginxServer start(Path root, String serverDirectives) throws IOException {
        return start(root, serverDirectives, null);
    }

    /** Same, over {@code https} with the given certificate when {@code tls} is not null. */
    public static NginxServer start(Path root, String serverDirectives, Tls tls) throws IOException {
        Path nginx = Tools.require("nginx");
        IOException last = null;
        // A free port found here can be taken before nginx binds it; try a few.
        for (int attempt = 0; attempt < 3; attempt++) {
            Path dir = Files.createTempDirectory("ihop-nginx");
            int port = freePort();
            try {
                return launch(nginx, dir, root.toAbsolutePath(), port, serverDirectives, tls);
            } catch (IOException e) {
                last = e;
                deleteTree(dir);
            }
        }
        throw last;
    }

    private static NginxServer launch(Path nginx, Path dir, Path root, int port, String serverDirectives, Tls tls)
            throws IOException {
        Path conf = dir.resolve("nginx.conf");
        String listen = tls == null ? "" : " ssl;\n        ssl_certificate " + quote(tls.certificate().toAbsolutePath())
                + ";\n        ssl_certificate_key " + quote(tls.key().toAbsolutePath());
        Files.writeString(conf, config(nginx, dir, root, port, listen, serverDirectives));
        Path errorLog = dir.resolve("error.log");
        Process p = new ProcessBuilder(nginx.toString(), "-p", dir.toString(), "-c", conf.toString(),
                "-e", errorLog.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("output.log").toFile())
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!p.isAlive()) {
                throw new IOException("nginx exited with " + p.exitValue() + ": " + tail(dir));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return new NginxServer(p, dir, root, port, tls != null);
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    p.destroyForcibly();
                    throw new IOException("nginx did not listen on port " + port + " within " + START_TIMEOUT + ": " + tail(dir));
                }
                sleep(20);
            }
        }
    }

    private static String config(Path nginx, Path dir, Path root, int port, String listenOptions, String serverDirectives)
            throws IOException {
        StringBuilder temp = new StringBuilder();
        // Temp paths default to /var/lib/nginx; point the compiled-in ones into the temp dir.
        String build = version(nginx);
        for (String kind : List.of("client-body", "proxy", "fastcgi", "uwsgi", "scgi")) {
            if (build.contains("--http-" + kind + "-temp-path")) {
                temp.append("    ").append(kind.replace('-', '_')).append("_temp_path ")
                        .append(quote(dir.resolve(kind))).append(";\n");
            }
        }
        return """
                daemon off;
                master_process off;
                pid %s;
                error_log %s info;
                events { worker_connections 256; }
                http {
                    default_type application/octet-stream;
                    log_format ihop "$connection\\t$connection_requests\\t$status\\t$body_bytes_sent\\t$bytes_sent\\t$request\\t$http_range";
                    access_log %s ihop;
                %s    sendfile on;
                    keepalive_requests 100000;
                    keepalive_timeout 60s;
                    server {
                        listen 127.0.0.1:%d%s;
                        root %s;
                        %s
                    }
                }
                """.formatted(quote(dir.resolve("nginx.pid")), quote(dir.resolve("error.log")),
                quote(dir.resolve("access.log")), temp, port, listenOptions, quote(root), serverDirectives);
    }

    private static String version(Path nginx) throws IOException {
        Process p = new ProcessBuilder(nginx.toString(), "-V").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return out;
    }

    private static String quote(Path p) {
        return "\"" + p.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    public int port() {
        return port;
    }

    public Path root() {
        return root;
    }

    /** {@code http(s)://127.0.0.1:port/} + {@code path} (relative to the served root). */
    public URI uri(String path) {
        return URI.create((https ? "https" : "http") + "://127.0.0.1:" + port + "/" + (path.startsWith("/") ? path.substring(1) : path));
    }

    /** The access log so far. nginx writes a line when a request finishes; see {@link #awaitAccessLog}. */
    public List<AccessLogEntry> accessLog() throws IOException {
        List<AccessLogEntry> entries = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("access.log"))) {
            String[] f = line.split("\t", -1);
            if (f.length != 7) {
                throw new IOException("unexpected access log line: " + line);
            }
            entries.add(new AccessLogEntry(Long.parseLong(f[0]), Long.parseLong(f[1]), Integer.parseInt(f[2]),
                    Long.parseLong(f[3]), Long.parseLong(f[4]), f[5], f[6]));
        }
        return entries;
    }

    /**
     * The access log once it has at least {@code entries} lines: a client can see the last
     * byte of a response before nginx logs the request.
     */
    public List<AccessLogEntry> awaitAccessLog(int entries, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<AccessLogEntry> log = accessLog();
            if (log.size() >= entries || System.nanoTime() > deadline) {
                return log;
            }
            sleep(10);
        }
    }

    /** Empties the access log (nginx appends, so it keeps writing at the new end). */
    public void clearAccessLog() throws IOException {
        Files.write(dir.resolve("access.log"), new byte[0]);
    }

    /** nginx's error log, for failure messages. */
    public String errorLog() throws IOException {
        return Files.readString(dir.resolve("error.log"));
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteTree(dir);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path dir) {
        try {
            String log = Files.readString(dir.resolve("error.log")) + Files.readString(dir.resolve("output.log"));
            return log.length() > 2000 ? log.substring(log.length() - 2000) : log;
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted", e));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
