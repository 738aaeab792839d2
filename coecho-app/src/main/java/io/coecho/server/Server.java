package io.coecho.server;

import io.coecho.server.blocking.BlockingServer;
import io.coecho.server.coroutine.CoroutineServer;
import io.coecho.server.udp.UdpStats;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * A running echo server, whatever its engine. Start one with {@link #start(ServerConfig)}.
 *
 * <p>Thread-safe. Lifecycle: RUNNING → {@link #close()} → DRAINING (listeners closed, connections
 * finish what they received) → TERMINATED, at the latest after the shutdown timeout.
 */
public interface Server extends AutoCloseable {
    /** Starts a server; fails at once, with a message fit for a user, if it cannot listen. */
    static Server start(ServerConfig config) throws java.io.IOException {
        return switch (config.engine()) {
            case COROUTINES -> CoroutineServer.start(config);
            case VIRTUAL_THREADS, THREADS -> BlockingServer.start(config);
        };
    }

    /** Where it listens (the real port when configured with port 0). */
    InetSocketAddress address();

    /** A human-readable description of the engine and transport, for the start-up line. */
    String description();

    /** Counters, summed over the server's loops or threads. */
    ServerStats stats();

    /** Counters per event loop (one entry for engines without loops). */
    default java.util.List<ServerStats> statsByLoop() {
        return java.util.List.of(stats());
    }

    /** Work counters of each event loop, in the order of {@link #statsByLoop()}; empty without loops. */
    default java.util.List<io.coecho.runtime.reactor.LoopStats> loopStats() {
        return java.util.List.of();
    }

    /** UDP counters, summed over the server's UDP sockets (zero when UDP is off). */
    default UdpStats udpStats() {
        return UdpStats.ZERO;
    }

    /**
     * Begins a graceful shutdown: stops accepting at once, lets connections echo what they have
     * received, closes idle ones, and cuts the rest when the shutdown timeout passes. Returns at once;
     * idempotent.
     */
    @Override
    void close();

    /** Closes every connection now, without draining. */
    void closeNow();

    /** Waits until every connection is gone and every thread has ended. */
    boolean awaitTermination(Duration timeout) throws InterruptedException;
}
