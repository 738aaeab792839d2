package io.coecho.loadgen;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Timeouts;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.timer.Timer;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * One event loop's share of a load run: its connections (TCP, or UDP sockets), its latency histogram and its counters.
 * Each loop records into its own histogram; the generator merges them once the loops have ended,
 * so the hot path takes no lock and shares no cache line.
 *
 * <p>Loop thread only, except: the futures (completed here, awaited by the generator's thread) and
 * the progress counters, which the generator reads without synchronisation (a progress line may
 * be a moment stale). Lifecycle: CONNECTING → RUNNING (warmup, then the window) → STOPPING (grace
 * for echoes in flight) → FINISHED (every connection closed).
 */
final class ClientLoop {
    private static final System.Logger LOG = System.getLogger(ClientLoop.class.getName());
    /** Latencies up to an hour are kept exactly (3 significant digits); longer ones are clamped. */
    static final long MAX_LATENCY_NANOS = Duration.ofHours(1).toNanos();

    final EventLoop loop;
    private final Transport transport;
    private final LoadConfig config;
    private final List<LoadClient> connections = new ArrayList<>();
    final Histogram latency = new Histogram(MAX_LATENCY_NANOS, 3);
    final CompletableFuture<Void> connectDone = new CompletableFuture<>();
    final CompletableFuture<Void> finished = new CompletableFuture<>();

    // The run's clock (System.nanoTime), set when the run begins.
    long startNanos;
    long warmupEndNanos;
    long endNanos;
    long graceEndNanos;
    /** Open loop: nanoseconds between one connection's sends, and between connections' first sends. */
    double intervalNanos;
    double spacingNanos;
    boolean stopping;
    private Timer windowTimer;
    private Timer endTimer;
    private Timer graceTimer;

    private int nextToConnect;
    private int connectors;

    // Counters; plain fields read racily by the progress line.
    long messages;
    long messagesAll;
    int connected;
    /** Connections with traffic running. */
    int live;
    /** --reconnect: connections opened again after the server closed them at a message boundary. */
    long reconnects;
    final long[] failures = new long[Failure.values().length];
    final String[] firstDetail = new String[Failure.values().length];
    /** UDP runs: datagram counts, indexed by {@link UdpCount#ordinal()}. */
    final long[] datagrams = new long[UdpCount.values().length];
    private boolean sendFailureLogged;

    ClientLoop(EventLoop loop, Transport transport, LoadConfig config) {
        this.loop = loop;
        this.transport = transport;
        this.config = config;
    }

    /** Adds connection number id to this loop (before the loop starts). */
    void add(int id) {
        connections.add(config.udp() ? new UdpClientSocket(this, id, config)
                : new ClientConnection(this, id, config.size(), config.pipeline()));
    }

    int size() {
        return connections.size();
    }

    LoadConfig config() {
        return config;
    }

    /**
     * Opens every connection, at most inFlight at a time, each within the connect timeout and all
     * by phaseDeadline (nanoTime); completes {@link #connectDone}. Loop thread.
     */
    void connectAll(int inFlight, long phaseDeadline) {
        connectors = Math.max(1, Math.min(inFlight, connections.size()));
        for (int i = 0; i < connectors; i++) {
            Coroutine.spawn(loop, "bench-connect-" + loop.name(), () -> connectSome(phaseDeadline));
        }
    }

    private void connectSome(long phaseDeadline) {
        try {
            while (nextToConnect < connections.size()) {
                open(connections.get(nextToConnect++), phaseDeadline);
            }
        } finally {
            if (--connectors == 0) {
                connectDone.complete(null);
            }
        }
    }

    private void open(LoadClient client, long phaseDeadline) {
        switch (client) {
            case ClientConnection c -> connect(c, phaseDeadline);
            case UdpClientSocket u -> bind(u);
        }
    }

    private void bind(UdpClientSocket u) {
        try {
            u.bind(transport);
            connected++;
        } catch (IOException e) {
            failed(Failure.CONNECT, "bind: " + e.getMessage());
        }
    }

    private void connect(ClientConnection c, long phaseDeadline) {
        TcpStream s = open(phaseDeadline, "");
        if (s != null) {
            c.stream = s;
            connected++;
        }
    }

    /**
     * --reconnect: a new stream for a connection the server closed at a message boundary, within the
     * connect timeout and before the grace ends; null when it failed (counted as a connect failure).
     * The calling coroutine (the connection's reader) waits for the connect.
     */
    TcpStream reopen() {
        TcpStream s = open(graceEndNanos, "reconnect: ");
        if (s != null) {
            reconnects++;
        }
        return s;
    }

    /** Connects within the connect timeout and by deadline (nanoTime); null when it failed (counted). */
    private TcpStream open(long deadline, String what) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            failed(Failure.CONNECT, what + "timed out: the connect phase ran out of time");
            return null;
        }
        Duration timeout = Duration.ofNanos(Math.min(left, config.connectTimeout().toNanos()));
        try {
            return Timeouts.withTimeout(timeout, () -> transport.connect(loop, config.target()));
        } catch (ConnectException e) {
            failed(Failure.CONNECT, what + "connection refused");
        } catch (TimeoutException e) {
            failed(Failure.CONNECT, what + "timed out after " + timeout.toMillis() + " ms");
        } catch (IOException e) {
            failed(Failure.CONNECT, what + e.getMessage());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "connect failed unexpectedly", e);
            failed(Failure.CONNECT, what + e);
        }
        return null;
    }

    /**
     * Starts traffic on every open connection; stops sending at endNanos and closes what is still
     * open at graceEndNanos; completes {@link #finished} when every connection is closed. Loop thread.
     */
    void run(long start, long warmupEnd, long end, long graceEnd) {
        startNanos = start;
        warmupEndNanos = warmupEnd;
        endNanos = end;
        graceEndNanos = graceEnd;
        if (config.paced()) {
            intervalNanos = 1e9 * config.connections() / config.rate();
            spacingNanos = 1e9 / config.rate();
        }
        for (LoadClient c : connections) {
            if (c.opened()) {
                live++;
                c.start();
            }
        }
        if (live == 0) {
            finished.complete(null);
            return;
        }
        windowTimer = loop.timers().schedule(warmupEnd, this::windowOpened);
        endTimer = loop.timers().schedule(end, this::stop);
        graceTimer = loop.timers().schedule(graceEnd, this::closeAll);
    }

    /**
     * Ends the measured window at now (nanoTime) if it was to end later: sending stops, echoes in
     * flight get the same grace as after a full window. Stopped during the warmup, the window is
     * empty. Loop thread; before {@link #run} it does nothing (no traffic to stop).
     */
    void endEarly(long now) {
        if (endTimer == null || now - endNanos >= 0) {
            return;
        }
        long grace = graceEndNanos - endNanos;
        if (now - warmupEndNanos < 0) {
            warmupEndNanos = now;
            windowTimer.reschedule(now);
        }
        endNanos = now;
        graceEndNanos = now + grace;
        endTimer.reschedule(now);
        graceTimer.reschedule(graceEndNanos);
    }

    /** An echo completed at now after latencyNanos; counted if now falls in the measured window. */
    void completed(long latencyNanos, long now) {
        messagesAll++;
        if (now - warmupEndNanos >= 0 && now - endNanos < 0) {
            messages++;
            latency.recordValue(Math.min(Math.max(latencyNanos, 0), MAX_LATENCY_NANOS));
        }
    }

    void failed(Failure f, String detail) {
        if (failures[f.ordinal()]++ == 0) {
            firstDetail[f.ordinal()] = detail;
        }
    }

    void count(UdpCount c) {
        datagrams[c.ordinal()]++;
    }

    void count(UdpCount c, int n) {
        datagrams[c.ordinal()] += n;
    }

    /** A datagram could not be sent (it will count as lost); logs the first time on this loop. */
    void sendFailed(IOException e) {
        if (!sendFailureLogged) {
            sendFailureLogged = true;
            LOG.log(System.Logger.Level.WARNING, "a datagram could not be sent (counted as lost): " + e.getMessage());
        }
    }

    void connectionEnded(LoadClient c) {
        if (--live == 0) {
            finished.complete(null);
        }
    }

    private void windowOpened() {
        for (LoadClient c : connections) {
            c.windowOpened();
        }
    }

    private void stop() {
        stopping = true;
        for (LoadClient c : connections) {
            c.stop();
        }
    }

    private void closeAll() {
        for (LoadClient c : connections) {
            c.close();
        }
    }
}
