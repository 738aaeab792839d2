package io.coecho;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client's pipelining: sends a {@link SeededStream} in 1 KiB chunks, without reading, until told
 * to stop (at most 64 MiB), counting what the socket took. For making a server's echo wait: keep
 * sending until the server reports it, then stop; the last chunk may stay blocked until the client
 * reads.
 *
 * <p>Runs on its own platform thread, blocked in the kernel's write and woken by it: a virtual thread
 * would also wait for the JDK's poller and a free carrier, which on a busy machine can take longer
 * than a test's idle timeout, and the test would blame the server. {@link #stop}, {@link #sent} and
 * {@link #done} from any thread.
 */
final class SeededSender {
    private static final int CHUNK = 1024;
    private static final long MAX = 64L << 20;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean done;

    private SeededSender() {}

    static SeededSender start(Socket s, SeededStream stream) {
        SeededSender sender = new SeededSender();
        Thread.ofPlatform().daemon().name("pipeliner").start(() -> sender.run(s, stream));
        return sender;
    }

    private void run(Socket s, SeededStream stream) {
        try {
            OutputStream out = s.getOutputStream();
            while (!stop.get() && sent.get() < MAX) {
                stream.write(out, sent.get(), CHUNK);
                sent.addAndGet(CHUNK);
            }
        } catch (IOException e) {
            // the test fails on what it reads
        } finally {
            done = true;
        }
    }

    void stop() {
        stop.set(true);
    }

    /** Bytes the socket has taken so far. */
    long sent() {
        return sent.get();
    }

    /** True once it stopped (asked to, at the limit, or on an error). */
    boolean done() {
        return done;
    }
}
