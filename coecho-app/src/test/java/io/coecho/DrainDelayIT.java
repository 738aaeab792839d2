package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A shutdown that a balancer sees coming, through the real process and real signals: /readyz and
 * the agent check say "not ready" from the first SIGTERM on, while the listeners keep accepting for
 * --drain-delay; then the drain of today begins and new connections are refused.
 */
class DrainDelayIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void notReadyAtOnceButStillAcceptingDuringTheDelay(ServerTarget target) throws Exception {
        // A delay far longer than the test: everything here happens within it, whatever the load.
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--drain-delay", "1h", "--admin", "127.0.0.1:0", "--agent-port", "127.0.0.1:0"));
        try (ServerProcess p = ServerProcess.start(0, args);
                Socket before = connect(p.address())) {
            InetSocketAddress admin = p.admin(WAIT);
            InetSocketAddress agent = p.announced("agent check at ", WAIT);
            assertEquals(200, Scrape.status(admin, "/livez"), target + ": live");
            assertEquals(200, Scrape.status(admin, "/readyz"), target + ": ready once listening");
            assertEquals("up ready\n", Scrape.agent(agent), target + ": agent check while ready");
            Traffic.echo(before, "before\n".getBytes(StandardCharsets.US_ASCII), target + ": before the signal");

            p.terminate();
            // Logged right after readiness turned: from here on it must say so.
            p.awaitLine("SIGTERM: not ready", WAIT);
            assertEquals(503, Scrape.status(admin, "/readyz"), target + ": ready after SIGTERM");
            assertEquals("draining\n", Scrape.get(admin, "/readyz", null).body(), target + ": readyz body");
            assertEquals("drain\n", Scrape.agent(agent), target + ": agent check after SIGTERM");
            assertEquals(200, Scrape.status(admin, "/livez"), target + ": still live while draining");
            try (Socket during = connect(p.address())) {
                Traffic.echo(during, "during the delay\n".getBytes(StandardCharsets.US_ASCII), target + ": new connection in the delay");
            }
            Traffic.echo(before, "still served\n".getBytes(StandardCharsets.US_ASCII), target + ": open connection in the delay");

            p.terminate();
            assertEquals(130, p.awaitExit(WAIT), target + ": a second signal in the delay; stderr " + p.stderr());
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void afterTheDelayTheListenersCloseAndTheDrainRuns(ServerTarget target) throws Exception {
        Duration delay = Duration.ofMillis(500);
        List<String> args = new ArrayList<>(target.cliArgs());
        // One loop: its listener closes before its idle connections are told to finish, so an idle
        // connection's EOF means no listener is left.
        args.addAll(List.of("--threads", "1", "--drain-delay", delay.toMillis() + "ms"));
        try (ServerProcess p = ServerProcess.start(0, args);
                Socket idle = connect(p.address())) {
            Traffic.echo(idle, "idle from now on\n".getBytes(StandardCharsets.US_ASCII), target + ": echo");
            long signalled = System.nanoTime();
            p.terminate();
            p.awaitLine("SIGTERM: not ready", WAIT);
            p.awaitLine("shutting down", WAIT);
            assertTrue(System.nanoTime() - signalled >= delay.toNanos(),
                    target + ": the drain began before --drain-delay had passed");
            Traffic.assertEof(idle.getInputStream(), target + ": idle connection drained after the delay");
            assertThrows(ConnectException.class, () -> connect(p.address()).close(), target + ": accepting after the delay");
            assertEquals(0, p.awaitExit(WAIT), target + ": exit code; stderr " + p.stderr());
            assertTrue(p.stderr().stream().anyMatch(l -> l.contains("stopped: 1 connections drained, 0 cut")),
                    target + ": summary line in " + p.stderr());
        }
    }

    private static Socket connect(InetSocketAddress address) throws Exception {
        Socket s = new Socket();
        try {
            s.connect(address, 10_000);
            s.setSoTimeout(20_000);
            return s;
        } catch (Exception e) {
            s.close();
            throw e;
        }
    }
}
