package dev.ihop.nbd.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An NBD server on a Unix or TCP socket: one thread accepts, one thread per connection runs
 * the {@link Handshake} then the {@link Transmission}. A connection's failure is logged and
 * closes that connection only. Connections are capped, and a client gets
 * {@link #HANDSHAKE_TIMEOUT_SECONDS} to finish the handshake, so idle or hostile clients
 * cannot pin the server's threads or memory.
 */
public final class NbdServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("dev.ihop.nbd");

    static final int MAX_CONNECTIONS = 128;
    static final int HANDSHAKE_TIMEOUT_SECONDS = 30;
    /** How long a TCP connection ending cleanly waits for the client to close first; see {@link #lingeringClose}. */
    static final int LINGER_MILLIS = 2000;
    /** Input discarded by a lingering close before it gives up and closes anyway. */
    static final int LINGER_DISCARD_LIMIT = 1 << 20;

    private final ServerSocketChannel listener;
    private final SocketAddress address;
    private final Path socketPath;
    private final List<Export> exports;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionCount = new AtomicInteger();
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "nbd-handshake-timer");
        t.setDaemon(true);
        return t;
    });
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread acceptor;
    private volatile boolean closing;

    private NbdServer(ServerSocketChannel listener, Path socketPath, List<Export> exports) throws IOException {
        this.listener = listener;
        this.address = listener.getLocalAddress();
        this.socketPath = socketPath;
        this.exports = List.copyOf(exports);
        timer.setRemoveOnCancelPolicy(true);
        acceptor = new Thread(this::acceptLoop, "nbd-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Serves on a Unix socket at {@code path}, which must not exist. The socket is created
     * owner-only without a window in which others could connect: it is bound inside a
     * private directory, restricted, then renamed into place. Closing the server removes it.
     */
    public static NbdServer listenUnix(Path path, List<Export> exports) throws IOException {
        Path absolute = path.toAbsolutePath();
        if (Files.exists(absolute, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(absolute.toString(), null, "socket path exists (remove it or choose another)");
        }
        if (!Files.isDirectory(absolute.getParent())) {
            throw new java.nio.file.NoSuchFileException(absolute.getParent().toString(), null, "no such directory for the socket");
        }
        Path privateDir = Files.createTempDirectory(absolute.getParent(), ".ihop-nbd-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path staging = privateDir.resolve("s");
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            listener.bind(UnixDomainSocketAddress.of(staging));
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-------"));
            Files.move(staging, absolute, StandardCopyOption.ATOMIC_MOVE);
            return new NbdServer(listener, absolute, exports);
        } catch (IOException | RuntimeException e) {
            listener.close();
            Files.deleteIfExists(staging);
            throw e;
        } finally {
            Files.deleteIfExists(privateDir);
        }
    }

    /** Serves on TCP at {@code address} (port 0 picks a free port; see {@link #address()}). */
    public static NbdServer listenTcp(InetSocketAddress address, List<Export> exports) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.bind(address);
            return new NbdServer(listener, null, exports);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /** The bound address (for TCP, with the actual port; for Unix, the final path). */
    public SocketAddress address() {
        return socketPath != null ? UnixDomainSocketAddress.of(socketPath) : address;
    }

    /** Connections being served now (for tests). */
    int openConnections() {
        return connectionCount.get();
    }

    private void acceptLoop() {
        try {
            while (!closing) {
                SocketChannel channel = listener.accept();
                if (connectionCount.incrementAndGet() > MAX_CONNECTIONS) {
                    connectionCount.decrementAndGet();
                    LOG.log(System.Logger.Level.WARNING, "refusing a connection: {0} connections already open", MAX_CONNECTIONS);
                    channel.close();
                    continue;
                }
                connections.add(channel);
                Thread t = new Thread(() -> serve(channel), "nbd-connection");
                t.setDaemon(true);
                t.start();
            }
        } catch (ClosedChannelException e) {
            // close() was called
        } catch (IOException e) {
            if (!closing) {
                LOG.log(System.Logger.Level.ERROR, "accepting connections failed: {0}", e.toString());
            }
        } finally {
            stopped.countDown();
        }
    }

    private void serve(SocketChannel channel) {
        String peer = peerName(channel);
        try (channel) {
            if (channel.getRemoteAddress() instanceof InetSocketAddress) {
                channel.socket().setTcpNoDelay(true);
            }
            ScheduledFuture<?> timeout = timer.schedule(() -> {
                LOG.log(System.Logger.Level.WARNING, "{0}: handshake not finished in {1} s, closing", peer, HANDSHAKE_TIMEOUT_SECONDS);
                closeQuietly(channel);
            }, HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            Handshake.Result negotiated;
            try {
                negotiated = new Handshake(channel, channel, exports).negotiate();
            } finally {
                timeout.cancel(false);
            }
            if (negotiated != null && channel.isOpen()) {
                new Transmission(channel, channel, negotiated.export(), negotiated.structuredReplies(), peer).run();
                if (channel.getRemoteAddress() instanceof InetSocketAddress) {
                    lingeringClose(channel);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closing) {
                LOG.log(System.Logger.Level.INFO, "{0}: connection dropped: {1}", peer, e.getMessage() != null ? e.getMessage() : e.toString());
            }
        } finally {
            connections.remove(channel);
            connectionCount.decrementAndGet();
        }
    }

    /**
     * Ends a TCP connection whose client sent {@code NBD_CMD_DISC} or closed, so that every
     * reply already written reaches it. Closing a TCP socket with unread input (a client
     * that sent more after {@code NBD_CMD_DISC}) makes Linux reset the connection and drop
     * what is still in the send queue: the replies to requests made before the disconnect.
     * So: a FIN after the replies, then input is discarded until the client closes, for at
     * most {@link #LINGER_MILLIS} and {@link #LINGER_DISCARD_LIMIT} bytes, as web servers
     * do. Unix sockets deliver queued data whatever happens and need none of this.
     */
    private static void lingeringClose(SocketChannel channel) {
        try {
            channel.shutdownOutput();
            Socket socket = channel.socket();
            socket.setSoTimeout(LINGER_MILLIS);
            InputStream in = socket.getInputStream();
            byte[] discard = new byte[4096];
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
            long discarded = 0;
            int n;
            while ((n = in.read(discard)) >= 0 && (discarded += n) < LINGER_DISCARD_LIMIT && System.nanoTime() < deadline) {
                // keep discarding
            }
        } catch (IOException e) {
            // timed out, reset, or closed by close(): the caller closes the channel anyway
        }
    }

    private static String peerName(SocketChannel channel) {
        try {
            SocketAddress remote = channel.getRemoteAddress();
            return remote instanceof InetSocketAddress ? remote.toString() : "unix client";
        } catch (IOException e) {
            return "client";
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // already broken
        }
    }

    /** Blocks until the server is closed. */
    public void awaitClosed() throws InterruptedException {
        stopped.await();
    }

    /** Stops accepting, drops every connection and removes the Unix socket file. */
    @Override
    public void close() throws IOException {
        closing = true;
        try {
            listener.close();
            for (SocketChannel channel : connections) {
                closeQuietly(channel);
            }
            timer.shutdownNow();
        } finally {
            if (socketPath != null) {
                Files.deleteIfExists(socketPath);
            }
        }
    }
}
