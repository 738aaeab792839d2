package io.coecho.server.coroutine;

import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.server.PortProbe;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import io.coecho.server.SourceLimit;
import io.coecho.server.udp.UdpEchoService;
import io.coecho.server.udp.UdpStats;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The coroutine engine: N event loops, each with its own listener (SO_REUSEPORT where the transport
 * has it, so the kernel spreads connections and they never move between loops) and one coroutine
 * per connection.
 *
 * <p>Thread-safe: the public methods hand work to the loops. Lifecycle as {@link Server}.
 */
public final class CoroutineServer implements Server {
    private static final System.Logger LOG = System.getLogger(CoroutineServer.class.getName());

    private final ServerConfig config;
    private final Transport transport;
    private final List<Worker> workers = new ArrayList<>();
    /** One UDP echo service per loop with a socket (empty when UDP is off); loop i's at index i. */
    private final List<UdpEchoService> udp = new ArrayList<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Open connections across loops, only when --max-connections is set (no atomics otherwise). */
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicBoolean atLimit = new AtomicBoolean();
    private final int maxConnections;
    /** --max-connections-per-source, across loops (null: no limit); see SourceLimit for why shared. */
    private final SourceLimit sources;
    private final AtomicBoolean untrustedWarned = new AtomicBoolean();
    private InetSocketAddress address;
    /** One acceptor deals connections out to all loops (no SO_REUSEPORT). */
    private boolean dealing;
    private int nextDeal;

    private CoroutineServer(ServerConfig config, Transport transport) {
        this.config = config;
        this.transport = transport;
        this.maxConnections = config.maxConnections();
        this.sources = SourceLimit.of(config.maxConnectionsPerSource());
    }

    public static CoroutineServer start(ServerConfig config) throws IOException {
        return start(config, config.transport().open());
    }

    /** On a transport of the caller's (tests: one that injects faults the kernel rarely raises). */
    static CoroutineServer start(ServerConfig config, Transport transport) throws IOException {
        for (int attempt = 1; ; attempt++) {
            CoroutineServer server = new CoroutineServer(config, transport);
            try {
                server.open();
                return server;
            } catch (java.net.BindException e) {
                // Port 0: the kernel picked a port free for TCP, which UDP may have taken. Try another.
                if (config.address().getPort() != 0 || !config.udp().enabled() || attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private void open() throws IOException {
        int n = config.threads();
        boolean reusePort = n > 1 && config.reusePort() && transport.supportsReusePort();
        int listeners = reusePort ? n : 1;
        if (n > 1 && !reusePort) {
            LOG.log(System.Logger.Level.INFO, "one acceptor deals connections out to {0} loops{1}", String.valueOf(n),
                    config.reusePort() ? " (the " + transport.name() + " transport has no SO_REUSEPORT here)" : "");
        }
        if (reusePort && config.address().getPort() != 0) {
            PortProbe.ensureTcpFree(config.address());
        }
        List<EventLoop> loops = new ArrayList<>();
        List<TcpListener> bound = new ArrayList<>();
        try {
            InetSocketAddress at = config.address();
            for (int i = 0; i < n; i++) {
                EventLoop loop = transport.newLoop("coecho-loop-" + i, config.bufferSize());
                loops.add(loop);
                if (i < listeners) {
                    TcpListener l = transport.listen(loop, at, new ListenOptions(config.backlog(), reusePort));
                    bound.add(l);
                    // Port 0 with several loops: the first bind picks the port, the others join it.
                    at = new InetSocketAddress(config.address().getAddress(), l.localAddress().getPort());
                }
            }
            address = bound.get(0).localAddress();
            udp.addAll(UdpEchoService.openAll(config.udp(), transport, loops.subList(0, listeners), new InetSocketAddress(config.address().getAddress(), address.getPort()), reusePort));
        } catch (IOException | RuntimeException e) {
            bound.forEach(TcpListener::close);
            loops.forEach(EventLoop::discard); // never started: no loop thread owns them yet
            throw e;
        }
        for (int i = 0; i < n; i++) {
            workers.add(new Worker(this, loops.get(i), i < listeners ? bound.get(i) : null, config));
        }
        dealing = listeners < n;
        for (int i = 0; i < n; i++) {
            Worker w = workers.get(i);
            w.loop.start();
            w.loop.execute(w::start);
            if (i < udp.size()) {
                w.loop.execute(udp.get(i)::start);
            }
        }
    }

    /**
     * The worker that serves the next connection from acceptor: the acceptor's own loop when every
     * loop has a listener, else the next loop round-robin. Called by the (single) acceptor only.
     */
    Worker dealTo(Worker acceptor) {
        if (!dealing) {
            return acceptor;
        }
        Worker w = workers.get(nextDeal);
        nextDeal = (nextDeal + 1) % workers.size();
        return w;
    }

    /** Loop i (loop 0 holds the single acceptor when one deals connections out). For tests. */
    EventLoop loop(int i) {
        return workers.get(i).loop;
    }

    /** Takes a connection slot before accepting; false at --max-connections. Any loop thread. */
    boolean admit() {
        if (maxConnections == 0) {
            return true;
        }
        while (true) {
            int n = open.get();
            if (n >= maxConnections) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Gives a slot back; wakes acceptors that wait for one. Any loop thread. */
    void release() {
        if (maxConnections == 0) {
            return;
        }
        if (open.getAndDecrement() == maxConnections) {
            for (Worker w : workers) {
                w.loop.execute(w::slotFreed);
            }
        }
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public String description() {
        return "coroutines engine, " + transport.name() + " transport, " + workers.size() + " loop"
                + (workers.size() == 1 ? "" : "s") + (dealing ? " served by one acceptor" : "")
                + (udp.isEmpty() ? "" : ", UDP echo on");
    }

    @Override
    public UdpStats udpStats() {
        return UdpStats.of(udp);
    }

    @Override
    public ServerStats stats() {
        ServerStats s = ServerStats.ZERO;
        for (Worker w : workers) {
            s = s.plus(w.stats());
        }
        return s;
    }

    @Override
    public List<ServerStats> statsByLoop() {
        return workers.stream().map(Worker::stats).toList();
    }

    @Override
    public List<io.coecho.runtime.reactor.LoopStats> loopStats() {
        return workers.stream().map(w -> w.loop.stats()).toList();
    }

    SourceLimit sources() {
        return sources;
    }

    /**
     * A peer outside --proxy-trusted was refused: the first time, say so loudly (a missing
     * --proxy-trusted would refuse every balancer); the connection says it at DEBUG. Any loop thread.
     */
    void untrustedPeer(InetSocketAddress peer) {
        if (untrustedWarned.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "closed a connection from {0}: not in --proxy-trusted ({1});"
                    + " further ones are logged at DEBUG and counted", peer, config.proxy().trusted());
        }
    }

    /** Logs the first time an acceptor meets the limit in an episode, and the end of the episode. */
    void atLimit(boolean reached) {
        if (atLimit.compareAndSet(!reached, reached)) {
            if (reached) {
                LOG.log(System.Logger.Level.WARNING, "at --max-connections ({0}): new connections wait in the backlog",
                        String.valueOf(maxConnections));
            } else {
                LOG.log(System.Logger.Level.INFO, "below --max-connections again: accepting");
            }
        }
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        for (int i = 0; i < workers.size(); i++) {
            Worker w = workers.get(i);
            UdpEchoService u = i < udp.size() ? udp.get(i) : null;
            w.loop.execute(() -> {
                // UDP has nothing in flight to drain: stop answering at once.
                if (u != null) {
                    u.close();
                }
                // The deadline first: beginDrain resumes connections, which must not be able to
                // delay or prevent it.
                w.loop.schedule(config.shutdownTimeout(), w::cutAll);
                w.beginDrain();
            });
        }
    }

    @Override
    public void closeNow() {
        closing.set(true);
        for (int i = 0; i < workers.size(); i++) {
            Worker w = workers.get(i);
            UdpEchoService u = i < udp.size() ? udp.get(i) : null;
            w.loop.execute(() -> {
                if (u != null) {
                    u.close();
                }
                w.cutAll();
            });
        }
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Worker w : workers) {
            long left = deadline - System.nanoTime();
            if (!w.loop.awaitTermination(Duration.ofNanos(Math.max(left, 0)))) {
                return false;
            }
        }
        return true;
    }
}
