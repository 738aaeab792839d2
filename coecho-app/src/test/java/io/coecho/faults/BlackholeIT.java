package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerTarget;
import io.coecho.TestServer;
import io.coecho.Traffic;
import io.coecho.examples.forwarder.Forwarder;
import io.coecho.examples.forwarder.Toxics;
import io.coecho.runtime.LogCapture;
import io.coecho.server.ServerStats;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Scenario 3 of issue 12: the network between clients and server turns into a blackhole both ways
 * (nothing passes, nothing is refused: a partition) for longer than the idle timeout, then heals.
 * The server reaps every connection stuck behind it (counted as idle timeouts) while the partition
 * lasts; once healed, each stuck client learns that its connection is gone (EOF or a reset, never
 * stray bytes), and new connections are served, through the healed path and directly.
 *
 * <p>The blackhole lasts until the server has counted the idle timeouts: longer than the timeout by
 * construction, with no guessed duration. Suite: 10 stuck connections, idle timeout 1 s. Full
 * (bench/faults.sh): 100, 2 s.
 */
class BlackholeIT {
    static final int STUCK = Scale.pick(10, 100);
    static final Duration IDLE = Scale.pick(Duration.ofSeconds(1), Duration.ofSeconds(2));

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void stuckConnectionsAreReapedAndNewOnesServedAfterTheHeal(ServerTarget target) throws Exception {
        List<Socket> stuck = new ArrayList<>();
        try (LogCapture log = LogCapture.start(Level.WARNING);
                TestServer server = TestServer.start(target, c -> c.idleTimeout(IDLE));
                Forwarder proxy = Forwarder.start(target.proxyTransport(),
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), server.address())) {
            for (int i = 0; i < STUCK; i++) {
                Socket s = connect(proxy);
                stuck.add(s);
                Traffic.echo(s, ("hello " + i + "\n").getBytes(StandardCharsets.US_ASCII), "before the partition");
            }
            Toxics partition = Toxics.builder().blackhole(true).build();
            proxy.upstream(partition);
            proxy.downstream(partition);
            long partitioned = System.nanoTime();
            for (Socket s : stuck) {
                s.getOutputStream().write("anyone there?\n".getBytes(StandardCharsets.US_ASCII)); // held by the blackhole
            }
            ServerStats reaped = server.awaitStats(STUCK + " idle timeouts behind the blackhole",
                    st -> st.idleTimeouts() == STUCK && st.active() == 0);
            assertEquals(STUCK, reaped.closed(), target + ": " + reaped);
            long reapedAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - partitioned);

            proxy.upstream(Toxics.NONE);
            proxy.downstream(Toxics.NONE);
            for (int i = 0; i < STUCK; i++) {
                assertConnectionEnded(stuck.get(i).getInputStream(), target + ": stuck client " + i);
                stuck.get(i).close(); // as a client does at the end: the proxy's link then ends too
            }
            awaitNoLinks(proxy, target);

            try (Socket healed = connect(proxy); Socket direct = server.connect()) {
                Traffic.echo(healed, Traffic.payload(new java.util.Random(1), 256 * 1024), target + ": through the healed path");
                Traffic.echo(direct, Traffic.payload(new java.util.Random(2), 256 * 1024), target + ": directly");
            }
            ServerStats after = server.awaitStats("the new connections closed", st -> st.closed() == STUCK + 2);
            assertEquals(STUCK, after.idleTimeouts(), target + ": only the stuck ones timed out: " + after);
            System.out.printf("%s %s: %d connections behind a blackhole reaped %d ms after it began (idle timeout %d ms); "
                    + "after the heal each saw its end, and new connections were served%n",
                    getClass().getSimpleName(), target, STUCK, reapedAfter, IDLE.toMillis());
            assertEquals(List.of(), log.lines(), target + ": reaping is not worth a warning");
        } finally {
            for (Socket s : stuck) {
                s.close();
            }
        }
    }

    /** The connection's end, as the healed path delivers it: EOF, or a reset; no byte before it. */
    private static void assertConnectionEnded(InputStream in, String what) throws IOException {
        try {
            assertEquals(-1, in.read(), what + ": expected the end of the connection");
        } catch (SocketException e) {
            assertTrue(e.getMessage().contains("reset"), what + ": " + e);
        }
    }

    private static void awaitNoLinks(Forwarder proxy, ServerTarget target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (proxy.links() != 0) {
            assertTrue(System.nanoTime() - deadline < 0, target + ": the proxy still has " + proxy.links() + " links");
            Thread.sleep(5); // polling a condition with a deadline
        }
    }

    private static Socket connect(Forwarder proxy) throws IOException {
        Socket s = new Socket();
        s.connect(proxy.address(), 10_000);
        s.setSoTimeout((int) TestServer.READ_TIMEOUT.toMillis());
        return s;
    }
}
