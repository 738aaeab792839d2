package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerProcess;
import io.coecho.ServerTarget;
import io.coecho.Traffic;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 5 of issue 12: the server process is stopped (SIGSTOP) under load and continued
 * (SIGCONT), as a debugger, a frozen VM or an overcommitted host does. Clients keep round trips
 * going throughout; every echo that was in flight during the pause completes, every byte is
 * verified, nothing is lost, and the server ends cleanly.
 *
 * <p>The pause is longer than the idle timeout: a connection whose client sent its request during the
 * pause is not idle, and must not be reaped when the process wakes up with the request waiting in
 * its socket (every engine did: the fix is in EventLoop's turn and BlockingConnection.checkTimeouts).
 *
 * <p>Suite: 20 clients, a 1 s pause; and 200 clients on one loop, a 2 s pause. Full (bench/faults.sh): 100
 * clients, 5 s.
 */
class ProcessPauseIT {
    static final int CLIENTS = Scale.pick(20, 100);
    static final int MANY_CLIENTS = 200;
    /**
     * The many clients' pause, and their largest message: with 200 of them on 2 cores a client can
     * itself be slow to send its next request, and a client silent for the idle timeout (half the
     * pause) is rightly reaped; a longer pause and small messages keep that out of the picture.
     */
    static final Duration MANY_PAUSE = Duration.ofSeconds(2);
    static final int MANY_MAX_SIZE = 1024;
    static final Duration PAUSE = Scale.pick(Duration.ofSeconds(1), Duration.ofSeconds(5));
    /** Round trips each client makes after the pause before the run ends. */
    static final int AFTER = Scale.pick(20, 200);

    /**
     * The idle timeout is half the pause: a connection whose client sent its request during the pause
     * is not idle, and must not be reaped when the process wakes up with the request in its socket.
     */
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void everyInFlightEchoCompletesAfterAPauseLongerThanTheIdleTimeout(ServerTarget target) throws Exception {
        run(target, List.of("--threads", "2", "--idle-timeout", PAUSE.dividedBy(2).toMillis() + "ms"), CLIENTS, PAUSE,
                16 * 1024);
    }

    /**
     * More requests wait after the pause than one loop turn delivers: an io_uring enter runs a
     * bounded share of the kernel's deferred completions (20 on recent kernels), an epoll_wait
     * returns a bounded batch. An idle watchdog due between two such turns must still find the
     * connections whose requests wait unread busy, not idle. 200 connections on one loop.
     */
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void nobodyIsReapedWhileTheLoopTakesSeveralTurnsToCatchUpAfterThePause(ServerTarget target) throws Exception {
        run(target, List.of("--threads", "1", "--idle-timeout", MANY_PAUSE.dividedBy(2).toMillis() + "ms"), MANY_CLIENTS,
                MANY_PAUSE, MANY_MAX_SIZE);
    }

    private void run(ServerTarget target, List<String> serve, int clientCount, Duration pause, int maxSize)
            throws Exception {
        long seed = System.nanoTime();
        AtomicBoolean stop = new AtomicBoolean();
        try (ServerProcess server = Launch.serve(target, 0, serve);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Client> clients = new ArrayList<>();
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < clientCount; i++) {
                Client c = new Client(server, seed + i, stop, maxSize);
                clients.add(c);
                running.add(threads.submit(c));
            }
            awaitRounds(clients, n -> n >= 5, "every client under way");
            Launch.signal(server.pid(), "STOP");
            long stopped = System.nanoTime();
            Thread.sleep(pause.toMillis()); // the pause is the scenario, not a wait for something
            long resumed = System.nanoTime();
            Launch.signal(server.pid(), "CONT");
            long[] before = clients.stream().mapToLong(Client::rounds).toArray();
            for (int i = 0; i < clientCount; i++) {
                long from = before[i];
                awaitRounds(List.of(clients.get(i)), n -> n >= from + AFTER, "client " + i + " going again");
            }
            stop.set(true);
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS); // rethrows a mismatch, an EOF, a timeout
            }
            long halfPause = pause.toNanos() / 2;
            long longest = 0;
            long rounds = 0;
            for (int i = 0; i < clientCount; i++) {
                Client c = clients.get(i);
                // While the process was stopped, the client's round trip then in flight could not end:
                // it began at least half the pause before SIGCONT and ended after it.
                assertTrue(c.spanned(resumed - halfPause, resumed),
                        target + ": client " + i + " had no echo in flight across the pause");
                longest = Math.max(longest, c.longest);
                rounds += c.rounds();
            }
            server.terminate();
            assertEquals(0, server.awaitExit(Duration.ofSeconds(30)), target + ": exit code; " + server.stderr());
            List<String> noisy = server.stderr().stream()
                    .filter(l -> l.contains("WARNING") || l.contains("SEVERE") || l.contains("Exception")).toList();
            assertEquals(List.of(), noisy, target + ": nothing worth a warning");
            System.out.printf("%s %s%s: %d clients, %d verified round trips, paused %d ms; longest round trip %d ms%n",
                    getClass().getSimpleName(), target, " " + String.join(" ", serve), clientCount, rounds,
                    TimeUnit.NANOSECONDS.toMillis(resumed - stopped), TimeUnit.NANOSECONDS.toMillis(longest));
        } finally {
            stop.set(true);
        }
    }

    private static void awaitRounds(List<Client> clients, LongPredicate done, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!clients.stream().allMatch(c -> done.test(c.rounds()) || c.failed)) {
            assertTrue(System.nanoTime() - deadline < 0, "never saw " + what);
            Thread.sleep(5); // polling a condition with a deadline
        }
    }

    /**
     * Round trips of random sizes (1 byte to maxSize) until told to stop, each verified; remembers the
     * longest, and the round trip in flight at chosen moments.
     */
    private static final class Client implements java.util.concurrent.Callable<Void> {
        private final ServerProcess server;
        private final long seed;
        private final AtomicBoolean stop;
        private final int maxSize;
        private volatile long rounds;
        private volatile boolean failed;
        private final List<long[]> slow = new ArrayList<>(); // round trips over 100 ms: {start, end}
        private long longest;

        Client(ServerProcess server, long seed, AtomicBoolean stop, int maxSize) {
            this.server = server;
            this.seed = seed;
            this.stop = stop;
            this.maxSize = maxSize;
        }

        long rounds() {
            return rounds;
        }

        @Override
        public Void call() throws Exception {
            try (Socket s = new Socket()) {
                s.connect(server.address(), 10_000);
                s.setSoTimeout(30_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                SeededBytes bytes = new SeededBytes(seed);
                SplittableRandom sizes = new SplittableRandom(seed);
                byte[] message = new byte[maxSize];
                while (!stop.get()) {
                    int n = 1 + sizes.nextInt(message.length);
                    bytes.next(message, 0, n);
                    long start = System.nanoTime();
                    out.write(message, 0, n);
                    byte[] back = Traffic.readFully(in, n);
                    long end = System.nanoTime();
                    if (Arrays.mismatch(message, 0, n, back, 0, n) >= 0) {
                        throw new AssertionError("round trip " + rounds + ": echo differs (seed " + seed + ")");
                    }
                    if (end - start > 100_000_000L) {
                        synchronized (slow) {
                            slow.add(new long[] {start, end});
                        }
                    }
                    longest = Math.max(longest, end - start);
                    rounds++;
                }
            } catch (Throwable t) {
                failed = true;
                throw t;
            }
            return null;
        }

        /** Whether one round trip began by from and ended after to. */
        boolean spanned(long from, long to) {
            synchronized (slow) {
                return slow.stream().anyMatch(rt -> rt[0] - from <= 0 && rt[1] - to > 0);
            }
        }
    }
}
