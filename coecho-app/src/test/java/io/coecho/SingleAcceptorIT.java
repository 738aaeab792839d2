package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.server.ServerStats;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several loops without SO_REUSEPORT (--no-reuse-port, or a system without it): one acceptor deals
 * connections out round-robin, every loop serves its share, and every byte still comes back.
 */
class SingleAcceptorIT {

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "NIO"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void oneAcceptorDealsConnectionsToEveryLoop(TransportChoice transport) throws Exception {
        try (TestServer server = TestServer.start(ServerTarget.EPOLL,
                c -> c.transport(transport).threads(3).reusePort(false))) {
            assertTrue(server.server().description().contains("one acceptor"), server.server().description());
            List<Socket> clients = new ArrayList<>();
            try {
                Random random = new Random(5);
                for (int i = 0; i < 30; i++) {
                    Socket s = server.connect();
                    clients.add(s);
                    Traffic.echo(s, Traffic.payload(random, 1 + random.nextInt(64 * 1024)), transport + " client " + i);
                }
            } finally {
                for (Socket s : clients) {
                    s.close();
                }
            }
            server.awaitStats("all closed", s -> s.closed() == 30);
            List<ServerStats> loops = server.server().statsByLoop();
            assertEquals(3, loops.size());
            for (ServerStats s : loops) {
                assertEquals(10, s.accepted(), transport + ": round-robin share of each loop, in " + loops);
            }
        }
    }
}
