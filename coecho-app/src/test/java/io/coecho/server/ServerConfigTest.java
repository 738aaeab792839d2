package io.coecho.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.coecho.runtime.TransportChoice;
import io.coecho.server.proxy.CidrList;
import io.coecho.server.proxy.ProxyConfig;
import io.coecho.server.udp.UdpConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServerConfigTest {

    @Test
    void builderStartsFromTheEmbeddersDefaults() {
        ServerConfig c = ServerConfig.builder().build();
        assertEquals(new InetSocketAddress("127.0.0.1", 0), c.address());
        assertEquals(1, c.threads());
        assertEquals(TransportChoice.AUTO, c.transport());
        assertEquals(Engine.COROUTINES, c.engine());
        assertEquals(0, c.maxConnections());
        assertEquals(Duration.ZERO, c.idleTimeout());
        assertEquals(Duration.ofSeconds(5), c.shutdownTimeout());
        assertEquals(UdpConfig.DEFAULTS, c.udp());
        assertEquals(ProxyConfig.OFF, c.proxy());
        assertEquals(0, c.maxConnectionsPerSource());
    }

    @Test
    void toBuilderChangesOnlyWhatIsSet() {
        ServerConfig c = ServerConfig.builder().threads(3).transport(TransportChoice.NIO).reusePort(false).build();
        ServerConfig d = c.toBuilder().maxConnections(10).build();
        assertEquals(new ServerConfig(c.address(), 3, c.bufferSize(), TransportChoice.NIO, c.engine(), c.backlog(), 10,
                c.idleTimeout(), c.writeTimeout(), c.shutdownTimeout(), c.udp(), false, c.proxy(), 0), d);
        assertEquals(c, d.toBuilder().maxConnections(0).build());
    }

    @Test
    void buildValidates() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.builder().threads(0).build());
        assertEquals("threads must be at least 1, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> UdpConfig.builder().maxDatagram(70_000).build());
        e = assertThrows(IllegalArgumentException.class,
                () -> ServerConfig.builder().bufferSize(64).proxy(ProxyConfig.from(CidrList.LOOPBACK)).build());
        assertEquals("the PROXY protocol needs a buffer size of at least 128 B, got 64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().maxConnectionsPerSource(-1).build());
    }

    @Test
    void defaultBacklogIsTheKernelsMaximum() throws Exception {
        // What `sysctl -n net.core.somaxconn` prints, read by another process than ours.
        Process p = new ProcessBuilder("cat", "/proc/sys/net/core/somaxconn").start();
        String expected;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))) {
            expected = r.readLine().trim();
        }
        assertEquals(Integer.parseInt(expected), ServerConfig.systemMaxBacklog());
    }
}
