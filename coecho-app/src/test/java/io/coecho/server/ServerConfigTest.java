package io.coecho.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ServerConfigTest {

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
