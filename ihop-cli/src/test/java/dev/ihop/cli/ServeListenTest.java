package dev.ihop.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * Where {@code ihop serve} listens on TCP. The default must be loopback only: an NBD export
 * has no authentication, so exposing it to the network has to be asked for by name.
 * ({@code ServeCommandIT.tcpOnLoopbackByDefault} checks the same on a running server; the
 * Unix socket's 0600 mode is checked by {@code ServerProtocolTest} and {@code ServeCommandIT}.)
 */
class ServeListenTest {
    private final ServeCommand serve = new ServeCommand();

    @Test
    void withoutAnAddressTheServerListensOnLoopbackOnTheNbdPort() {
        InetSocketAddress a = serve.parseListen("");
        assertEquals("127.0.0.1", a.getHostString());
        assertTrue(a.getAddress().isLoopbackAddress());
        assertEquals(10809, a.getPort());
    }

    @Test
    void aPortAloneKeepsLoopback() {
        InetSocketAddress a = serve.parseListen(":0");
        assertTrue(a.getAddress().isLoopbackAddress());
        assertEquals(0, a.getPort());
    }

    @Test
    void otherAddressesOnlyWhenNamed() {
        assertTrue(serve.parseListen("0.0.0.0:10809").getAddress().isAnyLocalAddress());
        InetSocketAddress v6 = serve.parseListen("[::1]:7000");
        assertTrue(v6.getAddress().isLoopbackAddress());
        assertEquals(7000, v6.getPort());
    }
}
