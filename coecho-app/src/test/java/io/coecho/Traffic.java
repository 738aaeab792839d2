package io.coecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What clients do in the scenarios: send a payload (on its own thread, so that a large one cannot
 * deadlock against its own echo), read it back, compare every byte.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Traffic {
    private Traffic() {}

    /** size random bytes from random (tests print their seed, so a failure can be replayed). */
    public static byte[] payload(Random random, int size) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        return b;
    }

    /** Sends payload while reading its echo back at full speed; asserts every byte. */
    public static void echo(Socket s, byte[] payload, String what) throws Exception {
        Sender sender = Sender.start(s, payload, false);
        byte[] back = readFully(s.getInputStream(), payload.length);
        sender.join();
        assertArrayEquals(payload, back, what + ": echo differs");
    }

    /**
     * Reads exactly n bytes. Fails on an early EOF, and (by the socket's timeout) on a server that
     * stops sending.
     */
    public static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(b, off, n - off);
            if (r < 0) {
                throw new java.io.EOFException("EOF after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return b;
    }

    /** Asserts that the next read sees EOF (the server shut down its side) and nothing else. */
    public static void assertEof(InputStream in, String what) throws IOException {
        assertEquals(-1, in.read(), what + ": expected EOF");
    }

    /** A payload being written on its own virtual thread; counts what the socket has taken. */
    public static final class Sender {
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private final AtomicLong sent = new AtomicLong();
        private volatile boolean stopped;

        private Sender() {}

        /** Starts writing payload in chunks; then, if shutdownOutput, half-closes the socket. */
        public static Sender start(Socket s, byte[] payload, boolean shutdownOutput) {
            Sender sender = new Sender();
            Thread.ofVirtual().name("sender").start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    for (int off = 0; off < payload.length; ) {
                        int n = Math.min(64 * 1024, payload.length - off);
                        out.write(payload, off, n);
                        off += n;
                        sender.sent.set(off);
                    }
                    out.flush();
                    if (shutdownOutput) {
                        s.shutdownOutput();
                    }
                    sender.done.complete(null);
                } catch (Throwable t) {
                    sender.done.completeExceptionally(t);
                }
            });
            return sender;
        }

        /**
         * Writes zeros without reading until the socket fails (the server cut it, or the test closed
         * it), the test calls {@link #stop()}, or limit bytes have gone. For a peer that must end up
         * stuck however large the kernel's buffers are: wait for the server to report its write waiting
         * instead of guessing how many bytes the buffers between the two can hold.
         */
        public static Sender flood(Socket s, long limit) {
            Sender sender = new Sender();
            Thread.ofVirtual().name("flood").start(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    OutputStream out = s.getOutputStream();
                    while (!sender.stopped && sender.sent.get() < limit) {
                        out.write(chunk);
                        sender.sent.addAndGet(chunk.length);
                    }
                    sender.done.complete(null);
                } catch (Throwable t) {
                    sender.done.completeExceptionally(t);
                }
            });
            return sender;
        }

        /** Makes a flood stop after its current write (one that is blocked stays blocked). */
        public void stop() {
            stopped = true;
        }

        /** Bytes the socket has accepted so far. */
        public long sent() {
            return sent.get();
        }

        public boolean isDone() {
            return done.isDone();
        }

        /** Waits for the writes to finish and rethrows their failure. */
        public void join() throws Exception {
            try {
                done.get(TestServer.READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception ex ? ex : e;
            } catch (TimeoutException e) {
                throw new AssertionError("sender still blocked after " + TestServer.READ_TIMEOUT, e);
            }
        }
    }
}
