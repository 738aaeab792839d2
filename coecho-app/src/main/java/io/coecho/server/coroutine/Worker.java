package io.coecho.server.coroutine;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.AcceptErrors;
import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.ResourceShortage;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.server.AcceptFailureLog;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import io.coecho.server.SourceLimit;
import io.coecho.server.proxy.ProxyConfig;
import io.coecho.server.proxy.ProxyHeaderParser;
import io.coecho.server.proxy.ProxyRejection;
import io.coecho.server.proxy.ProxyRejections;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;

/**
 * One event loop's share of a {@link CoroutineServer}: its listener, the seed's {@code accept_loop}
 * as a coroutine, its connections and its counters.
 *
 * <p>Loop thread only, except the counters, which other threads read (plain fields: a scrape may see
 * slightly old values, and the hot path pays no atomic operation). Lifecycle: ACCEPTING → DRAINING
 * (listener closed) → DONE (no connections left; the loop is stopped).
 */
final class Worker {
    private static final System.Logger LOG = System.getLogger(Worker.class.getName());
    /** How long the acceptor pauses when the process is out of file descriptors. */
    private static final Duration ACCEPT_BACKOFF = Duration.ofMillis(100);

    final CoroutineServer server;
    final EventLoop loop;
    final TcpListener listener;
    final long idleTimeoutNanos;
    final long writeTimeoutNanos;
    final long watchdogPeriodNanos;
    final ProxyConfig proxy;
    final long headerTimeoutNanos;
    /** Null without --max-connections-per-source; shared by all loops. */
    final SourceLimit sources;
    /**
     * Parses every connection's PROXY header, in the loop's scratch buffer: a parse runs to its end
     * without suspending, so the connections of one loop can share it.
     */
    final ProxyHeaderParser proxyParser;
    private final Set<EchoConnection> connections = new HashSet<>();
    private final AcceptFailureLog failures = new AcceptFailureLog();
    private Coroutine acceptor;
    private boolean acceptorWaitsForSlot;
    private boolean acceptorDone;
    boolean draining;

    // Counters: written by the loop thread only.
    long accepted;
    long closed;
    long bytesIn;
    long bytesOut;
    long idleTimeouts;
    long writeTimeouts;
    long drained;
    long cut;
    long acceptErrors;
    long admissionWaits;
    long sourceLimited;
    /** Connections refused under --proxy-protocol, by {@link ProxyRejection#ordinal()}. */
    final long[] proxyRejected = new long[ProxyRejection.COUNT];
    volatile long active;

    Worker(CoroutineServer server, EventLoop loop, TcpListener listener, ServerConfig config) {
        this.server = server;
        this.loop = loop;
        this.listener = listener;
        this.idleTimeoutNanos = config.idleTimeout().toNanos();
        this.writeTimeoutNanos = config.writeTimeout().toNanos();
        long period = Long.MAX_VALUE;
        if (idleTimeoutNanos > 0) {
            period = idleTimeoutNanos;
        }
        if (writeTimeoutNanos > 0) {
            period = Math.min(period, writeTimeoutNanos);
        }
        this.watchdogPeriodNanos = period == Long.MAX_VALUE ? 0 : period;
        this.proxy = config.proxy();
        this.headerTimeoutNanos = proxy.enabled() ? proxy.headerTimeout().toNanos() : 0;
        this.proxyParser = proxy.enabled() ? new ProxyHeaderParser() : null;
        this.sources = server.sources();
    }

    /** Starts the acceptor, if this loop has a listener; a loop without one only serves what it is dealt. */
    void start() {
        if (listener == null) {
            acceptorDone = true;
            return;
        }
        acceptor = Coroutine.spawn(loop, "accept " + listener.localAddress(), this::acceptLoop);
    }

    /** The seed's accept_loop: take a connection, start its coroutine, repeat. */
    private void acceptLoop() {
        try {
            while (!draining) {
                boolean waited = false;
                while (!server.admit()) {
                    // At --max-connections: leave new connections in the backlog until a slot frees.
                    waited = true;
                    admissionWaits++;
                    server.atLimit(true);
                    acceptorWaitsForSlot = true;
                    try {
                        Coroutine.suspend();
                    } finally {
                        acceptorWaitsForSlot = false;
                    }
                    if (draining) {
                        return;
                    }
                }
                if (waited) {
                    server.atLimit(false);
                }
                Accepted incoming;
                try {
                    incoming = listener.acceptDetached();
                } catch (ClosedChannelException e) {
                    server.release();
                    throw e;
                } catch (IOException e) {
                    server.release();
                    acceptErrors++;
                    String shortage = ResourceShortage.errnoName(e);
                    if (shortage == null && AcceptErrors.listenerBroken(e)) {
                        // Retrying cannot help. Closed (before we say so), it is out of its SO_REUSEPORT
                        // group: the kernel sends new connections to the other listeners rather than
                        // into a backlog nobody takes from.
                        listener.close();
                        LOG.log(System.Logger.Level.ERROR, "accept on {0} failed ({1}): the listener is unusable"
                                + " and closed; this loop accepts no more connections",
                                listener.localAddress(), AcceptErrors.name(e));
                        return;
                    }
                    // Out of fds or memory, or an error that leaves the listener usable (a security
                    // module's EPERM, a network error of one queued connection): the connections stay
                    // queued and epoll will not report them again, so retry on a timer, never in a
                    // spin; closing would lose this listener's share of connections for good. Out of
                    // fds, nothing here loads a class or builds a string.
                    failures.failed(shortage != null ? shortage : AcceptErrors.name(e), ACCEPT_BACKOFF.toMillis());
                    Coroutine.sleep(ACCEPT_BACKOFF);
                    continue;
                }
                failures.succeeded();
                Worker target = server.dealTo(this);
                if (target == this) {
                    adopt(incoming);
                } else if (!target.loop.tryExecute(() -> target.adopt(incoming))) {
                    // That loop has ended (in a shutdown it may drain and stop before ours does) and
                    // will run nothing more: the connection and its slot are still ours to release.
                    incoming.close();
                    server.release();
                }
            }
        } catch (ClosedChannelException e) {
            // The listener was closed: we are draining.
        } finally {
            // However the acceptor ends, nobody accepts here any more: a listener left open would
            // still be given its share of new connections, which would wait in its backlog for ever.
            listener.close();
            acceptorDone = true;
            maybeDone();
        }
    }

    /**
     * Serves a connection accepted here or dealt to this loop by another's acceptor. Loop thread.
     * The connection's slot (--max-connections) was taken by the acceptor and is ours to give back.
     */
    void adopt(Accepted incoming) {
        if (draining) {
            incoming.close();
            server.release();
            return;
        }
        TcpStream stream;
        try {
            stream = incoming.attach(loop);
        } catch (IOException e) {
            server.release();
            LOG.log(System.Logger.Level.DEBUG, "a new connection could not be registered: {0}", e.getMessage());
            return;
        }
        accepted++;
        active++;
        EchoConnection c = new EchoConnection(this, stream);
        connections.add(c);
        c.start();
    }

    void connectionEnded(EchoConnection c) {
        connections.remove(c);
        closed++;
        active--;
        if (draining && !c.isClosedByServer()) {
            drained++;
        }
        server.release();
        maybeDone();
    }

    /** A slot freed somewhere in the server: if our acceptor waits for one, let it try. */
    void slotFreed() {
        if (acceptorWaitsForSlot) {
            acceptor.wake();
        }
    }

    /** Stop accepting, let connections finish what they have received. Loop thread. */
    void beginDrain() {
        if (draining) {
            return;
        }
        draining = true;
        if (listener != null) {
            listener.close();
        }
        if (acceptorWaitsForSlot) {
            acceptor.wake();
        }
        for (EchoConnection c : new ArrayList<>(connections)) {
            c.drain();
        }
        maybeDone();
    }

    /** The shutdown timeout passed, or an immediate stop: close whatever is left. Loop thread. */
    void cutAll() {
        if (!draining) {
            beginDrain();
        }
        for (EchoConnection c : new ArrayList<>(connections)) {
            cut++;
            c.cut();
        }
    }

    private void maybeDone() {
        if (draining && acceptorDone && connections.isEmpty()) {
            loop.stop();
        }
    }

    ServerStats stats() {
        return new ServerStats(active, accepted, closed, bytesIn, bytesOut, idleTimeouts, writeTimeouts, drained, cut,
                acceptErrors, admissionWaits, loop.stats().writeWaits(),
                loop.stats().writesWaiting(), sourceLimited, ProxyRejections.of(proxyRejected));
    }
}
