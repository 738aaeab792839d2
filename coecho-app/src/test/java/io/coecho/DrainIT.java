package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.ServerStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graceful shutdown while clients are busy: a client that streams without pause neither stalls the
 * drain of the others nor escapes the shutdown timeout, and bytes that arrived before the shutdown
 * are echoed even if the connection had not taken them yet.
 */
class DrainIT {
    private static final int CHUNK = 1024;
    private static final int STREAM_CHUNK = 256 * 1024;

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aClientStreamingThroughTheDrainNeitherStallsTheOthersNorEscapesTheCut(ServerTarget target) throws Exception {
        long seed = new Random().nextLong();
        SeededStream pattern = new SeededStream(seed);
        String what = target + ", seed " + seed;
        // One loop, 64-byte reads against 256 KiB writes: the streamer's socket almost always has data
        // and its echo is read at once, so on the coroutine engine its drain seldom has to wait; only
        // the read budget lets the loop run anything else, the other's drain and the shutdown timer
        // included. (How long a stream keeps the socket readable is up to the scheduler: before the
        // budget, this held the loop for 0.2 s to over 15 s; TcpStreamFairnessIT shows the budget
        // itself deterministically.)
        try (TestServer server = TestServer.start(target,
                        c -> c.threads(1).bufferSize(64).shutdownTimeout(Duration.ofMillis(500)));
                Socket other = server.connect();
                Socket streamer = server.connect(s -> s.setSendBufferSize(4 << 20))) {
            Traffic.echo(other, "before the shutdown\n".getBytes(StandardCharsets.US_ASCII), what);
            AtomicLong echoed = new AtomicLong();
            AtomicReference<AssertionError> mismatch = new AtomicReference<>();
            // Platform threads, woken by the kernel itself (no poller hop), and little work per byte.
            Thread writer = Thread.ofPlatform().name("streamer-out").start(() -> {
                try {
                    OutputStream out = streamer.getOutputStream();
                    for (long sent = 0; ; sent += STREAM_CHUNK) {
                        pattern.write(out, sent, STREAM_CHUNK);
                    }
                } catch (IOException e) {
                    // the server cut the connection: the end this test waits for
                }
            });
            Thread reader = Thread.ofPlatform().name("streamer-in").start(() -> {
                try {
                    InputStream in = streamer.getInputStream();
                    byte[] b = new byte[STREAM_CHUNK];
                    for (int n; (n = pattern.readChecked(in, b, echoed.get(), what)) > 0; ) {
                        echoed.addAndGet(n);
                    }
                } catch (IOException e) {
                    // reset by the cut
                } catch (AssertionError e) {
                    mismatch.set(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (echoed.get() < (1 << 20) && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
            assertTrue(echoed.get() >= (1 << 20), what + ": the stream never got going");

            server.server().close();

            Traffic.assertEof(other.getInputStream(), what + ": the other connection, drained");
            other.close(); // a polite client: its EOF ends the server's linger
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(15)),
                    what + ": not terminated; the streamer held the loop past the shutdown timeout");
            writer.join();
            reader.join();
            if (mismatch.get() != null) {
                throw mismatch.get();
            }
            ServerStats s = server.server().stats();
            // The streamer never stops sending, so it is cut, mid-drain or lingering (the other one
            // too, should its client's close come after the deadline).
            assertTrue(s.cut() >= 1, what + ": the streamer was not cut, in " + s);
            assertEquals(2, s.drained() + s.cut(), what + ": " + s);
        }
    }

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
                        c -> c.bufferSize(4096).shutdownTimeout(Duration.ofSeconds(20)));
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
