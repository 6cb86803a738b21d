package dev.ihop.cli;

import dev.ihop.nbd.device.BlockDevice;
import dev.ihop.nbd.device.BlockDevices;
import dev.ihop.nbd.server.Export;
import dev.ihop.nbd.server.NbdServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ihop serve}: NBD server for releases and image files. */
@Command(name = "serve",
        description = {"Serve releases or plain image files read-only over NBD until SIGINT/SIGTERM.",
                "The export name is the backend's file name; the empty name is the first backend."})
final class ServeCommand implements Callable<Integer> {
    static final int DEFAULT_PORT = 10809;

    @Spec
    CommandSpec spec;

    @Option(names = "--socket", paramLabel = "PATH", description = "Listen on a Unix socket (created owner-only).")
    Path socket;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
            description = "Listen on TCP (default 127.0.0.1:" + DEFAULT_PORT + "; HOST defaults to 127.0.0.1).")
    String listen;

    @Parameters(arity = "1..*", paramLabel = "BACKEND", description = "An ihop release or a plain image file.")
    List<Path> backends;

    @Override
    public Integer call() throws Exception {
        if (socket != null && listen != null) {
            throw new ParameterException(spec.commandLine(), "--socket and --listen exclude each other");
        }
        InetSocketAddress tcp = socket == null ? parseListen(listen == null ? "" : listen) : null;
        ForegroundService.configureLogging();
        List<BlockDevice> devices = new ArrayList<>();
        try {
            List<Export> exports = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (Path backend : backends) {
                String name = backend.getFileName().toString();
                if (!names.add(name)) {
                    throw new ParameterException(spec.commandLine(), "two backends are named '" + name + "'; export names must differ");
                }
                BlockDevice device = BlockDevices.open(backend);
                devices.add(device);
                exports.add(new Export(name, device));
            }
            NbdServer server = socket != null ? NbdServer.listenUnix(socket, exports) : NbdServer.listenTcp(tcp, exports);
            String where = server.address() instanceof UnixDomainSocketAddress u ? "unix:" + u.getPath()
                    : "nbd://" + hostPort((InetSocketAddress) server.address());
            System.err.println("ihop: serving " + String.join(", ", names(exports)) + " on " + where);
            return ForegroundService.run(new ForegroundService.Service() {
                @Override
                public void awaitEnd() throws InterruptedException {
                    server.awaitClosed();
                }

                @Override
                public void stop() throws IOException {
                    server.close();
                }
            });
        } finally {
            for (BlockDevice device : devices) {
                device.close();
            }
        }
    }

    private static List<String> names(List<Export> exports) {
        return exports.stream().map(Export::name).toList();
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** HOST:PORT, [V6]:PORT, :PORT, HOST or empty; the host defaults to 127.0.0.1 and the port to 10809. */
    InetSocketAddress parseListen(String value) {
        String host = "127.0.0.1";
        String port = String.valueOf(DEFAULT_PORT);
        String v = value.strip();
        if (v.startsWith("[")) {
            int end = v.indexOf(']');
            if (end < 0 || (end + 1 < v.length() && v.charAt(end + 1) != ':')) {
                throw new ParameterException(spec.commandLine(), "--listen " + value + ": expected [IPV6]:PORT");
            }
            host = v.substring(1, end);
            if (end + 1 < v.length()) {
                port = v.substring(end + 2);
            }
        } else if (v.contains(":")) {
            int colon = v.lastIndexOf(':');
            if (colon > 0) {
                host = v.substring(0, colon);
            }
            port = v.substring(colon + 1);
        } else if (!v.isEmpty()) {
            host = v;
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            number = -1;
        }
        if (number < 0 || number > 65535) {
            throw new ParameterException(spec.commandLine(), "--listen " + value + ": port '" + port + "' is not a number from 0 to 65535");
        }
        return new InetSocketAddress(host, number);
    }
}
