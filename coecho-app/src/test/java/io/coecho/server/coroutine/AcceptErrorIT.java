package io.coecho.server.coroutine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.ServerTarget;
import io.coecho.TestServer;
import io.coecho.Traffic;
import io.coecho.runtime.TransportChoice;
import io.coecho.server.ServerConfig;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An accept that fails with something other than a resource shortage. An error that leaves the
 * listener usable (a security module's EPERM, a network error on one queued connection) is retried
 * after a pause, and the connections waiting meanwhile are served; a listener that no longer
 * listens (EINVAL) is closed, so that the kernel sends new connections to the other listeners of
 * the SO_REUSEPORT group instead of into a backlog nobody takes from. (The kernel has already taken
 * a listener that truly returns EINVAL out of its group; the injected fault leaves it in, the worse
 * case.)
 */
class AcceptErrorIT {
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anErrorThatLeavesTheListenerUsableIsRetried(String transport) throws Exception {
        FaultyTransport faulty = new FaultyTransport(TransportChoice.parse(transport).open(), "EPERM",
                "Operation not permitted", 3);
        try (LogCapture log = LogCapture.start(Level.INFO);
                TestServer server = start(faulty, ServerConfig.builder().transport(TransportChoice.parse(transport)).build());
                Socket s = server.connect()) {
            Traffic.echo(s, Traffic.payload(new Random(4), 1000), transport + ": the connection queued during the errors");
            server.awaitStats("three accept errors counted", st -> st.acceptErrors() == 3);
            List<String> warnings = log.lines().stream().filter(l -> l.startsWith("WARNING")).toList();
            assertEquals(1, warnings.size(), "one warning for the episode: " + log.lines());
            String name = transport.equals("epoll") ? "EPERM" : "Operation not permitted";
            assertTrue(warnings.get(0).contains(name) && !warnings.get(0).contains(" ["),
                    "names the error, no stack trace: " + warnings);
            assertTrue(log.lines().stream().anyMatch(l -> l.contains("accepting again")), log.lines().toString());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aListenerThatNoLongerListensIsClosedAndTheOthersServe(String transport) throws Exception {
        FaultyTransport faulty = new FaultyTransport(TransportChoice.parse(transport).open(), "EINVAL",
                "Invalid argument", Integer.MAX_VALUE);
        try (LogCapture log = LogCapture.start(Level.SEVERE);
                TestServer server = start(faulty, ServerConfig.builder().transport(TransportChoice.parse(transport)).threads(2).build())) {
            String name = transport.equals("epoll") ? "EINVAL" : "Invalid argument";
            awaitLine(log, name);
            // Each connection lands on a listener chosen by a hash of its addresses: about half of them
            // would go to the broken one if it still listened.
            Random random = new Random(7);
            for (int i = 0; i < 20; i++) {
                try (Socket s = server.connect()) {
                    Traffic.echo(s, Traffic.payload(random, 100), transport + ": connection " + i);
                }
            }
            assertEquals(1, log.lines().size(), "said once: " + log.lines());
        }
    }

    private static TestServer start(FaultyTransport transport, ServerConfig config) throws Exception {
        return TestServer.of(ServerTarget.valueOf(transport.name().toUpperCase(Locale.ROOT)),
                CoroutineServer.start(config, transport));
    }

    /** Waits, within a bound, until a line naming the error has been logged. */
    private static void awaitLine(LogCapture log, String text) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (log.lines().stream().noneMatch(l -> l.contains(text))) {
            assertTrue(System.nanoTime() < deadline, "never logged " + text + ": " + log.lines());
            Thread.sleep(5); // polling a condition with a deadline, not waiting for a guessed time
        }
    }
}
