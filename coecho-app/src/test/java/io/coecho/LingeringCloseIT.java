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
            ServerStats full = server.awaitStats("the echo waiting for the client", s -> s.writesWaiting() >= 1);
            // What the server's kernel held for us when its echo first waited: a full send buffer (at
            // least: the waiting write's copied part is not counted yet).
            long buffered = full.bytesOut() - in.available();
            sender.stop();
            server.server().close();

            // Read the echo until what is left unread would fit in half that buffer, then stop reading:
            // the server's last writes return into its own kernel by construction, not by the pace of
            // our reads against its loop, and the drain ends (its last write returned, nothing more to
            // read) with that echo not yet delivered. Then the client sends more: a server that closes at
            // once answers it with a reset, and the kernel discards the echo not yet delivered.
            long read = 0;
            byte[] chunk = new byte[CHUNK];
            int n = 0;
            while (n >= 0 && !(sender.done() && sender.sent() - read <= buffered / 2)) {
                n = pattern.readChecked(in, chunk, read, what);
                read += Math.max(n, 0);
            }
            if (n >= 0) {
                long sent = sender.sent();
                // The drain may also end earlier, at a lull while the rest of the client's stream was
                // still on its way: then the server lingers, discarding that rest, and closes after
                // DRAIN_LINGER (drained); nothing is late then, the test reads to the EOF.
                ServerStats last = server.awaitStats("the last echo write returned, or the drain over",
                        s -> s.bytesOut() == sent || s.drained() >= 1);
                if (last.bytesOut() == sent) {
                    long left = sent - read - in.available();
                    assertTrue(left > 0, what + ": no echo left in the server's kernel (" + buffered
                            + " bytes buffered when the echo waited), the test proves nothing");
                    pattern.write(client.getOutputStream(), sent, CHUNK);
                }
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
