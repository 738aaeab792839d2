package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerProcess;
import io.coecho.ServerTarget;
import io.coecho.Traffic;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 7 of issue 12: accept under an open-files limit while connections churn. The server runs
 * with {@code ulimit -n 128}; connections held open take every descriptor it can have (until it logs
 * EMFILE), then {@link #FREE} of them close, and many more clients than that connect, echo and close
 * (a third with an RST) at once: accept keeps failing with EMFILE and recovering as closes free
 * descriptors (FdExhaustionIT covers a static flood; this is the churn). Every cycle completes with
 * its echo exact, every logged EMFILE episode ends with "accepting again" (the log is quiet for a
 * minute after each, the accept-error counter is not), the descriptors return to the baseline (the
 * admin endpoint's among them), and a last client is served.
 *
 * <p>Suite: 20 clients at once, 150 cycles. Full (bench/faults.sh): 200, 5,000 (every EMFILE costs the
 * acceptor its 100 ms back-off, so the churn runs at some 80 cycles a second).
 */
class FdPressureChurnIT {
    private static final int OPEN_FILES = 128;
    /** Descriptors left to the churn; connections held open take the rest. */
    private static final int FREE = 8;
    static final int WORKERS = Scale.pick(20, 200);
    static final int CYCLES = Scale.pick(150, 5_000);

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void acceptRecoversAgainAndAgainAndNoDescriptorLeaks(ServerTarget target) throws Exception {
        long seed = System.nanoTime();
        try (ServerProcess server = Launch.serve(target, OPEN_FILES,
                        List.of("--threads", "1", "--backlog", "1024", "--admin", "127.0.0.1:0"));
                ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
            cycle(server, seed, -1); // every class on the path loaded while descriptors are plentiful
            int baseline = awaitDescriptors(server, -1);
            List<Socket> held = fillToTheLimit(server, target);
            // Free FREE descriptors for the churn to contend for; the last holder, waiting in the
            // backlog, takes one of them first and is served: the recovery, once.
            Socket last = held.getLast();
            for (int i = 0; i < FREE + 1; i++) {
                held.removeFirst().close();
            }
            assertEquals('h', last.getInputStream().read(), target + ": the holder that waited in the backlog");
            AtomicInteger next = new AtomicInteger();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Scale.pick(90, 900));
            long start = System.nanoTime();
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                running.add(workers.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < CYCLES; ) {
                        assertTrue(System.nanoTime() - deadline < 0, target + ": out of time at cycle " + i);
                        cycle(server, seed, i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            for (Socket h : held) {
                h.close();
            }
            int after = awaitDescriptors(server, baseline);
            cycle(server, seed, CYCLES); // and one more, now that it has descriptors again
            long acceptErrors = server.awaitMetric("coecho_accept_errors_total", v -> v >= 0, Duration.ofSeconds(10));
            server.terminate();
            assertEquals(0, server.awaitExit(Duration.ofSeconds(30)), target + ": exit code; " + server.stderr());
            List<String> log = server.stderr();
            long failed = log.stream().filter(l -> l.contains("accept failed (EMFILE)")).count();
            long recovered = log.stream().filter(l -> l.contains("accepting again")).count();
            System.out.printf("%s %s: %d cycles by %d clients under ulimit -n %d, %d connections held, in %d ms; "
                    + "%d failed accepts (EMFILE), logged %d times, each followed by \"accepting again\"; "
                    + "descriptors %d before, %d after%n", getClass().getSimpleName(), target, CYCLES, WORKERS, OPEN_FILES,
                    held.size(), took, acceptErrors, failed, baseline, after);
            assertTrue(acceptErrors >= 1 && failed >= 1, target + ": never out of descriptors, the scenario did not happen: " + log);
            assertEquals(failed, recovered, target + ": every EMFILE episode ends: " + log);
            assertFalse(log.stream().anyMatch(l -> l.startsWith("\tat ") || l.contains("Exception")),
                    target + ": no stack trace: " + log);
        }
    }

    /**
     * Opens connections that each echo one byte and stay open until the server logs that accept
     * failed for lack of descriptors (it says so at the first failure): then every descriptor it can
     * have is taken, and the last connection waits in the backlog. Returns them all, the last one
     * included. A connection is judged by what the server does, its echo or its log line, never by
     * a guessed time.
     */
    private static List<Socket> fillToTheLimit(ServerProcess server, ServerTarget target) throws Exception {
        List<Socket> held = new ArrayList<>();
        while (true) {
            assertTrue(held.size() < OPEN_FILES, target + ": " + held.size() + " connections and no EMFILE");
            Socket h = new Socket();
            held.add(h);
            h.connect(server.address(), 10_000); // the backlog takes it, accepted or not
            h.setSoTimeout(30_000);
            h.getOutputStream().write('h');
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (h.getInputStream().available() == 0) {
                if (server.stderr().stream().anyMatch(l -> l.contains("accept failed (EMFILE)"))) {
                    return held;
                }
                assertTrue(System.nanoTime() - deadline < 0, target + ": held connection " + held.size()
                        + " neither echoed nor refused a descriptor");
                Thread.sleep(5); // polling a condition with a deadline
            }
            assertEquals('h', h.getInputStream().read(), target + ": held connection " + held.size());
        }
    }

    /** One connect / echo / close; cycle % 3 == 0 closes with an RST. */
    private static void cycle(ServerProcess server, long seed, int cycle) throws Exception {
        SplittableRandom r = new SplittableRandom(seed + cycle);
        byte[] message = new byte[1 + r.nextInt(512)];
        r.nextBytes(message);
        Socket s = new Socket();
        try {
            s.connect(server.address(), 10_000); // the backlog takes it while the server has no descriptor
            s.setSoTimeout(30_000);
            s.getOutputStream().write(message);
            assertArrayEquals(message, Traffic.readFully(s.getInputStream(), message.length), "cycle " + cycle);
            if (cycle % 3 == 0) {
                s.setSoLinger(true, 0);
            }
        } finally {
            s.close();
        }
    }

    /**
     * Waits until the server's descriptor count settles: at expected (or, with -1, the same twice 50 ms
     * apart, once the last connection's close has been handled). Returns it.
     */
    private static int awaitDescriptors(ServerProcess server, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int last = -2;
        while (true) {
            int n = Fds.ofProcess(server.pid());
            if (expected >= 0 ? n == expected : n == last) {
                return n;
            }
            assertTrue(System.nanoTime() - deadline < 0,
                    "the server holds " + n + " descriptors" + (expected >= 0 ? ", " + expected + " before" : ""));
            last = n;
            Thread.sleep(50); // polling a condition with a deadline
        }
    }
}
