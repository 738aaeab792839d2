package io.coecho;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * An echo server started in-process for one test, and the plain blocking JDK sockets that talk to
 * it. Closing it closes the server at once and checks that every thread of it ended.
 *
 * <p>Used from the test thread (and its helper threads for clients); the server itself runs on its
 * own loops or threads.
 */
public final class TestServer implements AutoCloseable {
    /** How long a client read may block before the test fails instead of hanging. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final ServerTarget target;
    private final Server server;

    private TestServer(ServerTarget target, Server server) {
        this.target = target;
        this.server = server;
    }

    public static TestServer start(ServerTarget target) throws IOException {
        return start(target, UnaryOperator.identity());
    }

    /** Starts target's server with its configuration changed by tweak (still port 0 on loopback). */
    public static TestServer start(ServerTarget target, UnaryOperator<ServerConfig.Builder> tweak) throws IOException {
        return new TestServer(target, Server.start(tweak.apply(target.config()).build()));
    }

    /** A server the test started itself (say, on a transport that injects faults), for target. */
    public static TestServer of(ServerTarget target, Server server) {
        return new TestServer(target, server);
    }

    public Server server() {
        return server;
    }

    public InetSocketAddress address() {
        return server.address();
    }

    /** A connected client with a read timeout, so that a missing echo fails the test. */
    public Socket connect() throws IOException {
        return connect(s -> {});
    }

    /** A client configured by setup before it connects (for options such as SO_RCVBUF). */
    public Socket connect(SocketSetup setup) throws IOException {
        Socket s = new Socket();
        try {
            setup.apply(s);
            s.setSoTimeout((int) READ_TIMEOUT.toMillis());
            s.connect(address(), (int) CONNECT_TIMEOUT.toMillis());
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Waits, within a bound, until the server's counters satisfy condition; fails otherwise. */
    public ServerStats awaitStats(String what, Predicate<ServerStats> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        ServerStats s = server.stats();
        while (!condition.test(s)) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(target + ": never saw " + what + "; last stats " + s);
            }
            Thread.sleep(5); // polling a condition with a deadline, not waiting for a guessed time
            s = server.stats();
        }
        return s;
    }

    @Override
    public void close() throws InterruptedException {
        server.closeNow();
        assertTrue(server.awaitTermination(Duration.ofSeconds(10)), target + ": server did not terminate");
    }

    /** Socket options to set before connecting. */
    @FunctionalInterface
    public interface SocketSetup {
        void apply(Socket s) throws SocketException;
    }
}
