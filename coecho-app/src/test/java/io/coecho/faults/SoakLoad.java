package io.coecho.faults;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak's mix of clients, each a loop that ends when told to, every byte verified, every
 * failure counted as an echo error (with the first few kept for the report):
 *
 * <ul>
 *   <li>streams: connections through the fault-injecting forwarder (latency, jitter, slicer both
 *       ways), each streaming 256 KiB of seeded bytes, then EOF, then the next (scenario 1);
 *   <li>churn: connect / echo / close cycles, a third closed with an RST (scenario 2);
 *   <li>slow: a stream read at 2 MiB/s (scenario 6);
 *   <li>trickle: connections that send a byte a second each, for the whole run (scenario 4);
 *   <li>idlers: every few seconds a connection that echoes once and falls silent: the server must
 *       close it, not before its idle timeout and not long after (scenario 3's reaping).
 * </ul>
 *
 * <p>Threads: each loop on a virtual thread of its own, the trickle on a platform thread; the
 * counters are safe from any thread. Lifecycle: {@link #start} → running → {@link #stop} (each loop
 * finishes the operation it is in, bounded by its socket timeouts) → stopped.
 */
final class SoakLoad {
    static final int STREAMS = 4;
    static final int CHURNERS = 8;
    static final int TRICKLERS = 100;
    private static final long STREAM_BYTES = 256 * 1024;
    private static final long SLOW_BYTES = 4L << 20;
    private static final long SLOW_RATE = 2L << 20;

    private final InetSocketAddress server;
    private final InetSocketAddress proxy;
    private final Duration idleTimeout;
    private final List<Thread> loops = new ArrayList<>();
    private final List<Socket> tricklers = new ArrayList<>();
    private volatile boolean stopping;

    final AtomicLong errors = new AtomicLong();
    final AtomicLong echoed = new AtomicLong();
    final AtomicLong cycles = new AtomicLong();
    final AtomicLong reaped = new AtomicLong();
    final List<String> firstErrors = new CopyOnWriteArrayList<>();

    SoakLoad(InetSocketAddress server, InetSocketAddress proxy, Duration idleTimeout) {
        this.server = server;
        this.proxy = proxy;
        this.idleTimeout = idleTimeout;
    }

    void start(long seed) throws IOException {
        for (int i = 0; i < TRICKLERS; i++) {
            tricklers.add(connect(server));
        }
        for (int i = 0; i < STREAMS; i++) {
            long s = seed + 1_000_000L * i;
            loop("stream-" + i, n -> stream(s + n));
        }
        for (int i = 0; i < CHURNERS; i++) {
            long s = seed + 2_000_000L * (i + 1) + 7;
            loop("churn-" + i, n -> churn(s + n, n));
        }
        loop("slow", n -> slow(seed - n - 1));
        loop("idlers", n -> idler());
        Thread trickle = Thread.ofPlatform().name("trickle").start(this::trickle);
        loops.add(trickle);
    }

    /** Asks every loop to end after its current operation and waits for them (bounded); closes the tricklers. */
    void stop() throws InterruptedException {
        stopping = true;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        for (Thread t : loops) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
                error(t.getName(), new IllegalStateException("did not stop within 90 s"));
            }
        }
        for (Socket s : tricklers) {
            try {
                s.close();
            } catch (IOException e) {
                // closing
            }
        }
    }

    private interface Step {
        void run(long n) throws Exception;
    }

    private void loop(String name, Step step) {
        loops.add(Thread.ofVirtual().name("soak-" + name).start(() -> {
            for (long n = 0; !stopping; n++) {
                try {
                    step.run(n);
                } catch (Throwable t) {
                    error(name, t);
                }
            }
        }));
    }

    private void error(String where, Throwable t) {
        errors.incrementAndGet();
        if (firstErrors.size() < 20) {
            firstErrors.add(where + ": " + t);
        }
    }

    private void stream(long seed) throws Exception {
        try (Socket s = connect(proxy)) {
            Exchange.Digests d = Exchange.run(s, seed, STREAM_BYTES, 8192);
            if (!d.sent().equals(d.received())) {
                throw new AssertionError("digests differ (seed " + seed + ")");
            }
            s.shutdownOutput();
            expectEof(s.getInputStream());
            echoed.addAndGet(STREAM_BYTES);
        }
    }

    private void churn(long seed, long n) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] message = new byte[1 + r.nextInt(2048)];
        r.nextBytes(message);
        Socket s = connect(server);
        try {
            s.getOutputStream().write(message);
            byte[] back = s.getInputStream().readNBytes(message.length);
            if (!Arrays.equals(message, back)) {
                throw new AssertionError("echo differs (seed " + seed + ", " + back.length + " of " + message.length + " bytes)");
            }
            if (n % 3 == 0) {
                s.setSoLinger(true, 0); // close() sends an RST
            }
            echoed.addAndGet(message.length);
            cycles.incrementAndGet();
        } finally {
            s.close();
        }
    }

    private void slow(long seed) throws Exception {
        try (Socket s = connect(server)) {
            Exchange.Digests d = Exchange.run(s, seed, SLOW_BYTES, 64 * 1024, SLOW_RATE);
            if (!d.sent().equals(d.received())) {
                throw new AssertionError("digests differ (seed " + seed + ")");
            }
            echoed.addAndGet(SLOW_BYTES);
        }
    }

    /** One connection that echoes once and falls silent: the server closes it after its idle timeout. */
    private void idler() throws Exception {
        try (Socket s = connect(server)) {
            s.setSoTimeout((int) (idleTimeout.toMillis() + 20_000));
            byte[] hello = "idle\n".getBytes(StandardCharsets.US_ASCII);
            // Before the last traffic: the server's idle clock starts after it (when its echo is
            // written), so the close cannot come sooner than the timeout after this.
            long echoedAt = System.nanoTime();
            s.getOutputStream().write(hello);
            if (!Arrays.equals(hello, s.getInputStream().readNBytes(hello.length))) {
                throw new AssertionError("an idler's echo differs");
            }
            try {
                expectEof(s.getInputStream());
            } catch (SocketTimeoutException e) {
                throw new AssertionError("an idle connection was not closed within the idle timeout and 20 s");
            }
            long after = System.nanoTime() - echoedAt;
            if (after < idleTimeout.toNanos()) {
                throw new AssertionError("an idle connection was closed after " + after / 1_000_000 + " ms, before its timeout");
            }
            reaped.incrementAndGet();
        }
    }

    /** A byte to each trickler in turn, each getting one a second, until stopping. */
    private void trickle() {
        long gap = TimeUnit.SECONDS.toNanos(1) / TRICKLERS;
        long next = System.nanoTime();
        while (!stopping) {
            for (Socket s : tricklers) {
                try {
                    s.getOutputStream().write('.');
                    InputStream in = s.getInputStream();
                    for (int k = in.available(); k > 0; k--) {
                        if (in.read() != '.') {
                            throw new AssertionError("a trickler's echo differs");
                        }
                    }
                } catch (Throwable t) {
                    error("trickle", t);
                }
                next += gap;
                long wait = next - System.nanoTime();
                if (wait > 1_000_000) {
                    try {
                        Thread.sleep(wait / 1_000_000); // the trickle's pace is the workload
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    private static void expectEof(InputStream in) throws IOException {
        int b = in.read();
        if (b >= 0) {
            throw new AssertionError("a byte (" + b + ") where EOF was due");
        }
    }

    private static Socket connect(InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(to, 10_000);
            s.setSoTimeout(30_000);
            return s;
        } catch (IOException e) {
            s.close();
            throw e instanceof EOFException ? e : new IOException("connect to " + to + ": " + e.getMessage(), e);
        }
    }
}
