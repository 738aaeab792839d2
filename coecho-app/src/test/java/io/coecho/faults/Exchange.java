package io.coecho.faults;

import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One client's verified stream through the echo server: it sends {@code total} bytes of a
 * {@link SeededBytes} stream in pieces of random sizes, on a thread of its own (so that it cannot
 * deadlock against its own echo), while this thread reads the echo back, checks every byte against
 * the same stream (a mismatch names its position), and digests both sides with SHA-256.
 *
 * <p>Stateless; each call runs on the calling thread plus one virtual thread for the sending.
 */
final class Exchange {
    private static final int READ_BUFFER = 64 * 1024;

    /** SHA-256 of what was sent and of what came back, hex. */
    record Digests(String sent, String received) {}

    private Exchange() {}

    /** At full speed both ways. */
    static Digests run(Socket s, long seed, long total, int maxPiece) throws Exception {
        return run(s, seed, total, maxPiece, 0);
    }

    /**
     * As {@link #run(Socket, long, long, int)}, reading at most readRate bytes per second (0: as fast
     * as it comes): a slow consumer, whose pace the server must follow without buffering the rest.
     */
    static Digests run(Socket s, long seed, long total, int maxPiece, long readRate) throws Exception {
        CompletableFuture<String> sent = new CompletableFuture<>();
        Thread.ofVirtual().name("exchange-sender").start(() -> {
            try {
                sent.complete(send(s.getOutputStream(), seed, total, maxPiece));
            } catch (Throwable t) {
                sent.completeExceptionally(t);
            }
        });
        String received = receive(s.getInputStream(), seed, total, readRate);
        try {
            return new Digests(sent.get(30, TimeUnit.SECONDS), received);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        } catch (TimeoutException e) {
            throw new AssertionError("everything came back, but the sender never finished", e);
        }
    }

    private static String send(OutputStream out, long seed, long total, int maxPiece) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        SeededBytes bytes = new SeededBytes(seed);
        SplittableRandom pieces = new SplittableRandom(~seed);
        byte[] b = new byte[maxPiece];
        for (long off = 0; off < total; ) {
            int n = (int) Math.min(total - off, 1 + pieces.nextInt(maxPiece));
            bytes.next(b, 0, n);
            out.write(b, 0, n);
            digest.update(b, 0, n);
            off += n;
        }
        out.flush();
        return HexFormat.of().formatHex(digest.digest());
    }

    private static String receive(InputStream in, long seed, long total, long readRate) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        SeededBytes expected = new SeededBytes(seed);
        byte[] b = new byte[READ_BUFFER];
        byte[] want = new byte[READ_BUFFER];
        long start = System.nanoTime();
        for (long off = 0; off < total; ) {
            if (readRate > 0) {
                // The reader's pace is the scenario: it may not read byte off before off/rate seconds.
                long due = start + off * 1_000_000_000L / readRate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            int ask = (int) Math.min(total - off, readRate > 0 ? Math.min(READ_BUFFER, Math.max(1, readRate / 100)) : READ_BUFFER);
            int n = in.read(b, 0, ask);
            if (n < 0) {
                throw new EOFException("EOF after " + off + " of " + total + " bytes");
            }
            expected.next(want, 0, n);
            int at = Arrays.mismatch(b, 0, n, want, 0, n);
            if (at >= 0) {
                throw new AssertionError("echo differs at byte " + (off + at) + " of " + total);
            }
            digest.update(b, 0, n);
            off += n;
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
