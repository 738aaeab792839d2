package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graceful shutdown while clients are busy: bytes that arrived before it are echoed even if the
 * connection had not taken them yet.
 */
class DrainIT {
    private static final int CHUNK = 1024;

    /**
     * Bytes that arrived before the shutdown are echoed even when the connection had not taken them
     * yet when close() looked at it. On the virtual-threads engine the test holds that moment still:
     * it keeps every carrier thread busy, so the connection's thread, woken by the bytes, cannot run
     * until close() has decided (elsewhere the connection simply reads them at once).
     */
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void bytesQueuedWhenTheDrainBeginsAreEchoedThenEof(ServerTarget target) throws Exception {
        long seed = new Random().nextLong();
        SeededStream pattern = new SeededStream(seed);
        String what = target + ", seed " + seed;
        int queued = 16 * 1024; // four of the server's reads
        try (TestServer server = TestServer.start(target,
                        c -> c.withBufferSize(4096).withShutdownTimeout(Duration.ofSeconds(20)));
                Socket client = server.connect()) {
            Traffic.echo(client, pattern.bytes(0, 1), what + ": first byte"); // the connection waits in read now
            long before = server.server().stats().bytesIn();
            AtomicBoolean release = new AtomicBoolean();
            int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                    Runtime.getRuntime().availableProcessors());
            CountDownLatch busy = new CountDownLatch(carriers);
            for (int i = 0; i < carriers; i++) {
                Thread.ofVirtual().start(() -> {
                    busy.countDown();
                    while (!release.get()) {
                        Thread.onSpinWait(); // never parks, so it keeps its carrier
                    }
                });
            }
            try {
                assertTrue(busy.await(20, TimeUnit.SECONDS), what + ": carriers never all busy");
                pattern.write(client.getOutputStream(), 1, queued);
                server.server().close();
                if (target == ServerTarget.VIRTUAL_THREADS) {
                    assertEquals(before, server.server().stats().bytesIn(),
                            what + ": the connection read before close() looked, the test proves nothing");
                }
            } finally {
                release.set(true);
            }
            InputStream in = client.getInputStream();
            byte[] chunk = new byte[CHUNK];
            long read = 0;
            for (int n; (n = pattern.readChecked(in, chunk, 1 + read, what)) > 0; ) {
                read += n;
            }
            assertEquals(queued, read, what + ": echo of the bytes queued at close(), then EOF");
            client.close();
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(15)), what + ": did not terminate");
            assertEquals(1, server.server().stats().drained(), what + ": drained");
        }
    }
}
