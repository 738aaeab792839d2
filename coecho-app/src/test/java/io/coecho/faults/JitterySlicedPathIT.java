package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.ServerTarget;
import io.coecho.TestServer;
import io.coecho.examples.forwarder.Forwarder;
import io.coecho.examples.forwarder.Toxics;
import io.coecho.runtime.LogCapture;
import io.coecho.server.ServerStats;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 1 of issue 12: many connections through a network with latency, jitter and a slicer both
 * ways (the fault-injecting forwarder, on the other transport), each client streaming its own seeded
 * random bytes while reading the echo: every byte comes back in order, and the digest of all that
 * returned equals the digest of all that was sent. The server then has every connection closed.
 *
 * <p>Suite: 20 connections, 4 MiB in all. Full (bench/faults.sh): 200 connections, 64 MiB.
 */
class JitterySlicedPathIT {
    static final int CONNECTIONS = Scale.pick(20, 200);
    static final long TOTAL = Scale.pick(4L << 20, 64L << 20);
    /** 10 ms ± 5 ms per chunk; pieces of 1 KiB ± 768 bytes, 0.1 ms apart (a millisecond, at the timers' resolution). */
    static final Toxics PATH = Toxics.builder().latency(Duration.ofMillis(10), Duration.ofMillis(5))
            .slicer(1024, 768, Duration.ofNanos(100_000)).build();

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void digestOfTheEchoEqualsWhatWasSent(ServerTarget target) throws Exception {
        long seed = System.nanoTime();
        long each = TOTAL / CONNECTIONS;
        try (LogCapture log = LogCapture.start(Level.WARNING);
                TestServer server = TestServer.start(target);
                Forwarder proxy = Forwarder.start(target.proxyTransport(),
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), server.address(), seed);
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            proxy.upstream(PATH);
            proxy.downstream(PATH);
            long start = System.nanoTime();
            List<Future<Exchange.Digests>> runs = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                long connSeed = seed + i;
                runs.add(clients.submit(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(proxy.address(), 10_000);
                        s.setSoTimeout(30_000);
                        Exchange.Digests d = Exchange.run(s, connSeed, each, 8192);
                        s.shutdownOutput();
                        assertEquals(-1, s.getInputStream().read(), "EOF after the echo");
                        return d;
                    }
                }));
            }
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            MessageDigest received = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < CONNECTIONS; i++) {
                Exchange.Digests d = runs.get(i).get();
                assertEquals(d.sent(), d.received(), target + ": connection " + i + " (seed " + (seed + i) + ")");
                sent.update(HexFormat.of().parseHex(d.sent()));
                received.update(HexFormat.of().parseHex(d.received()));
            }
            String all = HexFormat.of().formatHex(sent.digest());
            assertEquals(all, HexFormat.of().formatHex(received.digest()), target + ": digest of every echo");
            ServerStats s = server.awaitStats("every connection closed",
                    st -> st.accepted() == CONNECTIONS && st.closed() == CONNECTIONS && st.active() == 0);
            assertEquals(each * CONNECTIONS, s.bytesIn(), target + ": bytes the server read");
            System.out.printf("%s %s: %d connections, %.1f MiB through latency+jitter+slicer both ways in %d ms; sha-256 %s%n",
                    getClass().getSimpleName(), target, CONNECTIONS, each * CONNECTIONS / 1048576.0,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), all.substring(0, 16));
            assertEquals(List.of(), log.lines(), target + ": nothing worth a warning");
        }
    }
}
