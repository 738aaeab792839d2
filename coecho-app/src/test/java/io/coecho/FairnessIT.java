package io.coecho;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One connection streaming as fast as it can must not starve the others on the same loop: a second
 * client's small round trips all complete while the stream is still going. (The seed's loop would
 * serve the streaming connection for as long as its socket had data.)
 */
class FairnessIT {
    private static final long STREAM_BYTES = 1L << 40; // far more than can flow during the test

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aStreamingConnectionDoesNotStarveAnother(ServerTarget target) throws Exception {
        // Small server reads against large client writes: the server's socket always has data, so the
        // streaming connection would never have to wait, and only its read budget lets others in.
        try (TestServer server = TestServer.start(target, c -> c.threads(1).bufferSize(1024));
                Socket streamer = server.connect();
                Socket small = server.connect()) {
            AtomicLong echoed = new AtomicLong();
            Thread writer = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    for (long sent = 0; sent < STREAM_BYTES; sent += chunk.length) {
                        streamer.getOutputStream().write(chunk);
                    }
                } catch (Exception e) {
                    // the socket is closed when the test ends
                }
            });
            Thread reader = Thread.ofVirtual().start(() -> {
                byte[] buf = new byte[256 * 1024];
                try {
                    InputStream in = streamer.getInputStream();
                    for (int n; (n = in.read(buf)) > 0; ) {
                        echoed.addAndGet(n);
                    }
                } catch (Exception e) {
                    // the socket is closed when the test ends
                }
            });
            // Let the stream get going, so that the loop is busy with it when the small client talks.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (echoed.get() < (8 << 20) && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
            // Liveness, not speed: 200 tiny round trips take milliseconds on a fair loop; a starving one
            // lets them through only when the stream happens to pause (about 20 s here without the budget).
            Random random = new Random(11);
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                for (int i = 0; i < 200; i++) {
                    Traffic.echo(small, Traffic.payload(random, 1 + random.nextInt(512)), target + ": round trip " + i);
                }
            }, target + ": the small client was starved by the streaming one");
            assertFalse(!writer.isAlive() || !reader.isAlive(), target + ": the stream stopped, so it proves nothing");
            streamer.close();
            writer.join();
            reader.join();
        }
    }
}
