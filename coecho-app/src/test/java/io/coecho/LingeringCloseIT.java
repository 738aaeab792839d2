package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.ServerStats;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A client that keeps sending while the server drains gets whatever the server echoed, in order,
 * followed by a clean EOF: never a reset that throws echo away (the server's lingering close).
 */
class LingeringCloseIT {
    private static final int CHUNK = 1024;

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aClientStillSendingAfterTheDrainGetsEveryEchoedByteThenEof(ServerTarget target) throws Exception {
        long seed = new Random().nextLong();
        SeededStream pattern = new SeededStream(seed);
        String what = target + ", seed " + seed;
        try (TestServer server = TestServer.start(target, c -> c.shutdownTimeout(Duration.ofSeconds(20)));
                Socket client = server.connect(s -> s.setReceiveBufferSize(4096))) {
            InputStream in = client.getInputStream();
            // Pipelines without reading until the server's echo waits for us: at close() the server is
            // busy writing, not waiting in a read, so it finishes by itself.
            SeededSender sender = SeededSender.start(client, pattern);
            server.awaitStats("the echo waiting for the client", s -> s.writesWaiting() >= 1);
            sender.stop();
            server.server().close();

            // Read the echo in small steps until the server has echoed all the client sent (its last
            // write returned, so its drain ends now): what it sent last still sits in its kernel,
            // waiting for us to read. Then the client sends more, after the drain ended (or just
            // before): a server that closes at once answers it with a reset, and the kernel discards
            // the echo not yet delivered. (The drain may also end earlier, at a lull while the rest of
            // the client's stream was still on its way: then that rest plays the part of the late data.)
            long read = 0;
            byte[] chunk = new byte[CHUNK];
            int n = 0;
            while (n >= 0 && !(sender.done() && server.server().stats().bytesOut() == sender.sent())) {
                n = pattern.readChecked(in, chunk, read, what);
                read += Math.max(n, 0);
            }
            if (n >= 0) {
                long sent = sender.sent();
                assertTrue(sent - read - in.available() > 0, what + ": no echo left in the server's kernel, the test proves nothing");
                pattern.write(client.getOutputStream(), sent, CHUNK);
                while ((n = pattern.readChecked(in, chunk, read, what)) >= 0) {
                    read += n;
                }
            }
            client.close(); // our EOF ends the server's wait for it
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(15)), what + ": did not terminate");
            ServerStats s = server.server().stats();
            assertEquals(s.bytesOut(), read, what + ": bytes echoed by the server vs received, in " + s);
            assertEquals(1, s.drained(), what + ": drained, in " + s);
        }
    }
}
