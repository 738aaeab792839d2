package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.runtime.LogCapture;
import java.net.Socket;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Clients that leave rudely: one resets mid-transfer (SO_LINGER 0, then close: an RST), one vanishes
 * while the server is blocked writing its echo. The server drops each quietly (no warning, no stack
 * trace), frees the connection, and serves a third client byte for byte.
 */
class PeerResetIT {
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void resetMidTransfer(ServerTarget target) throws Exception {
        Random random = new Random();
        try (LogCapture log = LogCapture.start(Level.WARNING); TestServer server = TestServer.start(target)) {
            Socket rude = server.connect();
            Traffic.Sender sender = Traffic.Sender.start(rude, Traffic.payload(random, 8 * 1024 * 1024), false);
            Traffic.readFully(rude.getInputStream(), 256 * 1024); // the transfer is well under way
            rude.setSoLinger(true, 0);
            rude.close();
            assertSenderStopped(sender);
            server.awaitStats("the reset connection closed", s -> s.closed() == 1);

            serveThirdClient(server, random);
            assertEquals(List.of(), log.lines(), target + ": a reset is not worth a warning");
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void vanishWhileServerWrites(ServerTarget target) throws Exception {
        Random random = new Random();
        try (LogCapture log = LogCapture.start(Level.WARNING); TestServer server = TestServer.start(target)) {
            // Never reads, with a small window: it sends until the server's echo fills it and the
            // server's write waits, however much the kernel's buffers take.
            Socket gone = server.connect(c -> c.setReceiveBufferSize(4096));
            Traffic.Sender sender = Traffic.Sender.flood(gone, 1L << 32);
            server.awaitStats("the server's write waiting for the peer", s -> s.writesWaiting() == 1);
            // Closing with unread data makes the kernel send an RST, as a killed client's would.
            gone.close();
            assertSenderStopped(sender);
            server.awaitStats("the vanished connection closed", s -> s.closed() == 1);

            serveThirdClient(server, random);
            assertEquals(List.of(), log.lines(), target + ": a vanished peer is not worth a warning");
        }
    }

    private static void serveThirdClient(TestServer server, Random random) throws Exception {
        try (Socket ok = server.connect()) {
            Traffic.echo(ok, Traffic.payload(random, 1024 * 1024 + 3), "third client");
        }
        server.awaitStats("every connection closed", s -> s.active() == 0 && s.accepted() == 2 && s.closed() == 2);
    }

    /** The closed socket's sender ends, with an exception, instead of hanging. */
    private static void assertSenderStopped(Traffic.Sender sender) throws Exception {
        try {
            sender.join();
        } catch (java.io.IOException expected) {
            // "Socket closed": the test closed it under the sender.
        }
    }
}
