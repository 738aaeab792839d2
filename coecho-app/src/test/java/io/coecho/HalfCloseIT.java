package io.coecho;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.net.Socket;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The client shuts down its sending side: the server echoes everything it received, then shuts down
 * its own side (the client reads EOF) and lets the connection go, while the client still holds it.
 */
class HalfCloseIT {
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void everythingEchoedThenEof(ServerTarget target) throws Exception {
        long seed = new Random().nextLong();
        // Larger than any buffer on the way, so the half-close arrives while echo data is in flight.
        byte[] payload = Traffic.payload(new Random(seed), 4 * 1024 * 1024 + 17);
        String what = target + ", seed " + seed;
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            Traffic.Sender sender = Traffic.Sender.start(s, payload, true);
            byte[] back = Traffic.readFully(s.getInputStream(), payload.length);
            Traffic.assertEof(s.getInputStream(), what);
            sender.join();
            assertArrayEquals(payload, back, what + ": echo differs");
            server.awaitStats("the connection closed by the server", st -> st.active() == 0 && st.closed() == 1);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shutdownRightAfterAShortLine(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            byte[] line = "ping\n".getBytes(UTF_8);
            s.getOutputStream().write(line);
            s.shutdownOutput();
            assertArrayEquals(line, Traffic.readFully(s.getInputStream(), line.length), target + ": echo");
            Traffic.assertEof(s.getInputStream(), target.label());
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void shutdownWithNothingSent(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            s.shutdownOutput();
            Traffic.assertEof(s.getInputStream(), target.label());
            server.awaitStats("the connection closed by the server", st -> st.active() == 0 && st.closed() == 1);
        }
    }
}
