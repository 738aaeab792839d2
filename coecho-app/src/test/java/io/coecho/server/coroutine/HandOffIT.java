package io.coecho.server.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerTarget;
import io.coecho.TestServer;
import io.coecho.Traffic;
import io.coecho.runtime.reactor.EventLoop;
import java.net.Socket;
import java.time.Duration;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One acceptor dealing connections out (no SO_REUSEPORT) to a loop that has already stopped, as one
 * that drained before the acceptor's own loop does in a graceful shutdown: the connection must not
 * be handed to a loop that will never run it. The acceptor closes it and gives its slot back.
 */
class HandOffIT {
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aConnectionDealtToAStoppedLoopIsClosedAndItsSlotFreed(String transport) throws Exception {
        // One slot: if the stopped loop's connection kept it, no later connection would be accepted.
        try (TestServer server = TestServer.start(ServerTarget.valueOf(transport.toUpperCase(Locale.ROOT)),
                c -> c.threads(2).reusePort(false).maxConnections(1))) {
            Random random = new Random(13);
            // The acceptor (loop 0) deals round-robin: loop 0, then loop 1, then loop 0 again.
            try (Socket first = server.connect()) {
                Traffic.echo(first, Traffic.payload(random, 1000), transport + ": first, on loop 0");
            }
            server.awaitStats("the first connection closed", s -> s.closed() == 1);
            EventLoop one = ((CoroutineServer) server.server()).loop(1);
            one.stop();
            assertTrue(one.awaitTermination(Duration.ofSeconds(10)), "loop 1 did not stop");
            try (Socket second = server.connect()) {
                assertEquals(-1, second.getInputStream().read(), transport + ": dealt to the stopped loop, closed");
            }
            try (Socket third = server.connect()) {
                Traffic.echo(third, Traffic.payload(random, 1000), transport + ": third, on loop 0, in the freed slot");
            }
        }
    }
}
