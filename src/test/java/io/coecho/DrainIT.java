package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.ServerStats;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graceful shutdown against clients that keep sending while the server drains: whatever the server
 * echoed reaches the client, followed by a clean EOF, never a reset that throws echo away.
 */
class DrainIT {
    private static final int CHUNK = 1024;

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aClientStillSendingAfterTheDrainGetsEveryEchoedByteThenEof(ServerTarget target) throws Exception {
        long seed = new Random().nextLong();
        Pattern pattern = new Pattern(seed);
        String what = target + ", seed " + seed;
        try (TestServer server = TestServer.start(target, c -> c.withShutdownTimeout(Duration.ofSeconds(20)));
                Socket client = server.connect(s -> s.setReceiveBufferSize(4096))) {
            InputStream in = client.getInputStream();
            // Pipelines without reading until the server's echo waits for us: at close() the server is
            // busy writing, not waiting in a read, so it finishes by itself.
            Sender sender = new Sender(client.getOutputStream(), pattern);
            Thread.ofVirtual().name("pipeliner").start(sender);
            server.awaitStats("the echo waiting for the client", s -> s.writesWaiting() >= 1);
            sender.stop.set(true);
            server.server().close();

            // Read the echo in small steps until the server has echoed all it received (its last
            // write returned, so its drain ends now): what it sent last still sits in its kernel,
            // waiting for us to read.
            long read = 0;
            while (!(sender.done() && server.server().stats().bytesOut() == sender.sent.get())) {
                int n = readChecked(in, pattern, read, CHUNK, what);
                assertTrue(n > 0, what + ": EOF before the server had echoed what it received");
                read += n;
            }
            long echoed = sender.sent.get();
            assertTrue(echoed - read - in.available() > 0, what + ": no echo left in the server's kernel, the test proves nothing");

            // Now the client sends more, after the drain ended (or just before): a server that closes
            // at once answers it with a reset, and the kernel discards the echo not yet delivered.
            client.getOutputStream().write(pattern.bytes(echoed, CHUNK));
            while (true) {
                int n = readChecked(in, pattern, read, CHUNK, what);
                if (n < 0) {
                    break;
                }
                read += n;
            }
            client.close(); // our EOF ends the server's wait for it
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(15)), what + ": did not terminate");
            ServerStats s = server.server().stats();
            assertEquals(s.bytesOut(), read, what + ": bytes echoed by the server vs received, in " + s);
            assertTrue(read >= echoed, what + ": " + read + " bytes back of " + echoed + " echoed before the last send");
            assertEquals(1, s.drained(), what + ": drained, in " + s);
        }
    }

    /** Reads up to max bytes at position pos and checks them against the pattern; -1 at EOF. */
    private static int readChecked(InputStream in, Pattern pattern, long pos, int max, String what) throws Exception {
        byte[] b = new byte[max];
        int n = in.read(b);
        for (int i = 0; i < n; i++) {
            if (b[i] != pattern.at(pos + i)) {
                throw new AssertionError(what + ": echo differs at byte " + (pos + i));
            }
        }
        return n;
    }

    /** An endless byte stream from a seed, checkable at any position without keeping it. */
    static final class Pattern {
        private static final int PERIOD = 65_521; // prime: never aligned with chunk sizes
        private final byte[] block = new byte[PERIOD];

        Pattern(long seed) {
            new Random(seed).nextBytes(block);
        }

        byte at(long pos) {
            return block[(int) (pos % PERIOD)];
        }

        byte[] bytes(long pos, int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = at(pos + i);
            }
            return b;
        }
    }

    /** Sends the pattern in chunks until told to stop (at most 64 MiB); counts what the socket took. */
    static final class Sender implements Runnable {
        private static final long MAX = 64L << 20;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong sent = new AtomicLong();
        private final OutputStream out;
        private final Pattern pattern;
        private volatile boolean done;

        Sender(OutputStream out, Pattern pattern) {
            this.out = out;
            this.pattern = pattern;
        }

        @Override
        public void run() {
            try {
                while (!stop.get() && sent.get() < MAX) {
                    out.write(pattern.bytes(sent.get(), CHUNK));
                    sent.addAndGet(CHUNK);
                }
            } catch (java.io.IOException e) {
                // the test fails on what it reads
            } finally {
                done = true;
            }
        }

        boolean done() {
            return done;
        }
    }
}
