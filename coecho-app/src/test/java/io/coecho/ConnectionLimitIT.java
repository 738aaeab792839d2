package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * --max-connections: at the limit the server stops accepting, so the next client waits in the
 * backlog (connected by the kernel, not yet served) and is served as soon as a slot frees.
 */
class ConnectionLimitIT {

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void clientBeyondTheLimitWaitsInTheBacklogUntilASlotFrees(ServerTarget target) throws Exception {
        byte[] hi = "hi\n".getBytes(StandardCharsets.US_ASCII);
        try (TestServer server = TestServer.start(target, c -> c.maxConnections(2));
                Socket first = server.connect();
                Socket second = server.connect();
                Socket third = server.connect()) {
            Traffic.echo(first, hi, "first");
            Traffic.echo(second, hi, "second");
            server.awaitStats("the acceptor pausing at the limit", s -> s.admissionWaits() >= 1);
            third.getOutputStream().write(hi);
            third.setSoTimeout(500);
            assertThrows(SocketTimeoutException.class, () -> third.getInputStream().read(),
                    target + ": a third connection was served beyond --max-connections 2");
            first.close();
            third.setSoTimeout((int) TestServer.READ_TIMEOUT.toMillis());
            assertEquals("hi\n", new String(Traffic.readFully(third.getInputStream(), 3), StandardCharsets.US_ASCII),
                    target + ": the waiting client once a slot freed");
            assertEquals(3, server.awaitStats("three accepted", s -> s.accepted() == 3).accepted());
        }
    }
}
