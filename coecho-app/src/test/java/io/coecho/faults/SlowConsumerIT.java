package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerProcess;
import io.coecho.ServerTarget;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 6 of issue 12: a client sends a long stream as fast as the server takes it and reads the
 * echo only at a limited rate. The server must follow the reader's pace without buffering the rest:
 * while its echo waits it reads nothing more (back-pressure), so its memory stays flat however long
 * the stream, and every byte comes back in order.
 *
 * <p>The bound: the server's resident set grows by less than {@link #RSS_BOUND_MIB} MiB while the
 * stream passes (the stream is several times that). By design it holds at most one pooled buffer
 * (--buffer-size, 16 KiB) of unsent echo per connection; the kernel's socket buffers are not in RSS.
 * Measured on the real process with the launcher's JVM options, sampled every 50 ms, from after a
 * warm-up stream at full speed (so that the JIT's and the young generation's first growth is behind).
 *
 * <p>Suite: 32 MiB read at 32 MiB/s. Full (bench/faults.sh): 256 MiB at 1 MiB/s.
 */
class SlowConsumerIT {
    static final long TOTAL = Scale.pick(32L << 20, 256L << 20);
    static final long READ_RATE = Scale.pick(32L << 20, 1L << 20);
    static final long RSS_BOUND_MIB = 16;
    private static final long WARM_UP = 16L << 20;

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void memoryStaysFlatAndEveryByteComesBackInOrder(ServerTarget target) throws Exception {
        long seed = System.nanoTime();
        try (ServerProcess server = Launch.serve(target, 0, List.of("--threads", "1"))) {
            try (Socket warm = connect(server)) {
                Exchange.Digests d = Exchange.run(warm, seed, WARM_UP, 64 * 1024);
                assertEquals(d.sent(), d.received(), target + ": warm-up stream");
            }
            long before = Launch.rssKib(server.pid());
            CompletableFuture<Exchange.Digests> stream = new CompletableFuture<>();
            long start = System.nanoTime();
            Thread.ofPlatform().name("slow-consumer").start(() -> {
                try (Socket s = connect(server)) {
                    stream.complete(Exchange.run(s, ~seed, TOTAL, 64 * 1024, READ_RATE));
                } catch (Throwable t) {
                    stream.completeExceptionally(t);
                }
            });
            long most = before;
            long deadline = start + TimeUnit.SECONDS.toNanos(Scale.pick(60, 600));
            while (!stream.isDone()) {
                assertTrue(System.nanoTime() - deadline < 0, target + ": the stream is still going");
                most = Math.max(most, Launch.rssKib(server.pid()));
                Thread.sleep(50); // the sampling interval of a measurement, not a wait for something
            }
            Exchange.Digests d = stream.get();
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(d.sent(), d.received(), target + ": digest of the slow stream");
            long grewKib = most - before;
            System.out.printf("%s %s: %d MiB read at %.1f MiB/s in %d ms; server RSS %d KiB before, at most %d KiB during (+%d KiB)%n",
                    getClass().getSimpleName(), target, TOTAL >> 20, READ_RATE / 1048576.0, took, before, most, grewKib);
            assertTrue(grewKib < RSS_BOUND_MIB * 1024, target + ": RSS grew by " + grewKib + " KiB while " + (TOTAL >> 20) + " MiB passed");
            server.terminate();
            assertEquals(0, server.awaitExit(Duration.ofSeconds(30)), target + ": exit code; " + server.stderr());
        }
    }

    private static Socket connect(ServerProcess server) throws java.io.IOException {
        Socket s = new Socket();
        s.connect(server.address(), 10_000);
        s.setSoTimeout(30_000);
        return s;
    }
}
