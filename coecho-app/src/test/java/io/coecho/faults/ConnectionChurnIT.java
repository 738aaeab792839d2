package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerTarget;
import io.coecho.TestServer;
import io.coecho.Traffic;
import io.coecho.runtime.LogCapture;
import io.coecho.server.ServerStats;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 2 of issue 12: connect / echo / close cycles at high concurrency, a third of them closed
 * with an RST (SO_LINGER 0) instead of a FIN. Every echo is exact; afterwards the server has closed
 * every connection it accepted, holds exactly the descriptors it held before (its listener), and
 * logged nothing worth a warning. Descriptor numbers are reused at a high rate meanwhile: a stale
 * event or a double close would hit another connection.
 *
 * <p>Suite: 3,000 cycles at concurrency 50. Full (bench/faults.sh): 100,000 at 500.
 */
class ConnectionChurnIT {
    static final int CYCLES = Scale.pick(3_000, 100_000);
    static final int CONCURRENCY = Scale.pick(50, 500);
    /** The whole run's bound: a worker starts no new cycle after it. */
    static final long DEADLINE_SECONDS = Scale.pick(60, 600);

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyEchoExactAndTheDescriptorsBackToTheBaseline(ServerTarget target) throws Exception {
        long seed = System.nanoTime();
        try (LogCapture log = LogCapture.start(Level.WARNING);
                TestServer server = TestServer.start(target);
                ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
            int port = server.address().getPort();
            int baseline = Fds.socketsOnPort(port);
            AtomicInteger next = new AtomicInteger();
            AtomicLong resets = new AtomicLong();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
            long start = System.nanoTime();
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < CONCURRENCY; w++) {
                running.add(workers.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < CYCLES; ) {
                        assertTrue(System.nanoTime() - deadline < 0, target + ": out of time at cycle " + i);
                        SplittableRandom r = new SplittableRandom(seed + i);
                        byte[] message = new byte[1 + r.nextInt(2048)];
                        r.nextBytes(message);
                        Socket s = server.connect();
                        try {
                            s.getOutputStream().write(message);
                            assertArrayEquals(message, Traffic.readFully(s.getInputStream(), message.length),
                                    target + ": cycle " + i + " (seed " + (seed + i) + ")");
                            if (i % 3 == 0) {
                                s.setSoLinger(true, 0); // close() sends an RST
                                resets.incrementAndGet();
                            }
                        } finally {
                            s.close();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            ServerStats s = server.awaitStats("every connection closed",
                    st -> st.accepted() == CYCLES && st.closed() == CYCLES && st.active() == 0);
            awaitDescriptors(port, baseline, target);
            System.out.printf("%s %s: %d cycles (%d reset) at concurrency %d in %d ms (%.0f/s); server sockets %d before and after%n",
                    getClass().getSimpleName(), target, CYCLES, resets.get(), CONCURRENCY, took, CYCLES * 1000.0 / took, baseline);
            assertEquals(0, s.idleTimeouts() + s.writeTimeouts(), target + ": " + s);
            assertEquals(List.of(), log.lines(), target + ": a reset is not worth a warning");
        }
    }

    /**
     * The server's sockets back to the baseline. The count settles a little after the close counter:
     * the nio transport releases a registered channel's descriptor at the selector's next turn.
     */
    private static void awaitDescriptors(int port, int baseline, ServerTarget target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int n;
        while ((n = Fds.socketsOnPort(port)) != baseline) {
            assertTrue(System.nanoTime() - deadline < 0, target + ": " + n + " server sockets open, " + baseline + " before");
            Thread.sleep(10); // polling a condition with a deadline
        }
    }
}
