package io.coecho.server.blocking;

import io.coecho.runtime.net.ResourceShortage;
import io.coecho.server.AcceptFailureLog;
import io.coecho.server.Engine;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import io.coecho.server.SourceLimit;
import io.coecho.server.proxy.ProxyConfig;
import io.coecho.server.proxy.ProxyRejection;
import io.coecho.server.proxy.ProxyRejections;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engines the seed compares coroutines with: one thread per connection, virtual
 * ({@code --engine virtual-threads}) or platform ({@code --engine threads}), on blocking JDK sockets.
 *
 * <p>Blocking {@link SocketChannel}s with a direct buffer per connection, not {@code java.net.Socket}
 * with a {@code byte[]}: the socket streams copy every read and write through a temporary direct
 * buffer, while a channel reads into and writes from the connection's own native buffer.
 *
 * <p>Threads: one acceptor (virtual or platform, like the connections), a {@link Watchdog} and a
 * thread per connection; the public methods are safe from any thread. Lifecycle as {@link Server}.
 */
public final class BlockingServer implements Server {
    private static final System.Logger LOG = System.getLogger(BlockingServer.class.getName());
    /** How long the acceptor pauses after a failed accept (EMFILE and the like). */
    private static final long ACCEPT_BACKOFF_MILLIS = 100;
    /** Free buffers kept for the next connections; beyond that the garbage collector frees them. */
    private static final int SPARE_BUFFERS = 256;

    private final ServerConfig config;
    private final ServerSocketChannel listener;
    private final InetSocketAddress address;
    private final Thread.Builder threads;
    private final Set<BlockingConnection> connections = ConcurrentHashMap.newKeySet();
    private final ArrayBlockingQueue<ByteBuffer> spareBuffers = new ArrayBlockingQueue<>(SPARE_BUFFERS);
    /** Connection slots at --max-connections, taken before accept(); null without a limit. */
    private final Semaphore slots;
    private final Watchdog watchdog;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean untrustedWarned = new AtomicBoolean();
    final ProxyConfig proxy;
    /** --max-connections-per-source, shared by all connection threads (null: no limit). */
    final SourceLimit sources;
    private final Thread acceptor;
    private volatile boolean acceptorDone;
    private boolean limitLogged; // acceptor only
    volatile boolean draining;

    // Counters: accepted, acceptErrors and admissionWaits are written by the acceptor only.
    private volatile long accepted;
    private volatile long acceptErrors;
    private volatile long admissionWaits;
    private final AcceptFailureLog failures = new AcceptFailureLog();
    final LongAdder closed = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder idleTimeouts = new LongAdder();
    final LongAdder writeTimeouts = new LongAdder();
    final LongAdder drained = new LongAdder();
    final LongAdder cut = new LongAdder();
    final LongAdder writeWaits = new LongAdder();
    final LongAdder sourceLimited = new LongAdder();
    /** Connections refused under --proxy-protocol, by {@link ProxyRejection#ordinal()}. */
    final LongAdder[] proxyRejected = new LongAdder[ProxyRejection.COUNT];

    private BlockingServer(ServerConfig config, ServerSocketChannel listener) throws IOException {
        this.config = config;
        this.listener = listener;
        this.address = (InetSocketAddress) listener.getLocalAddress();
        this.threads = config.engine() == Engine.VIRTUAL_THREADS
                ? Thread.ofVirtual().name("coecho-conn-", 0)
                : Thread.ofPlatform().name("coecho-conn-", 0);
        this.slots = config.maxConnections() > 0 ? new Semaphore(config.maxConnections()) : null;
        this.proxy = config.proxy();
        this.sources = SourceLimit.of(config.maxConnectionsPerSource());
        for (int i = 0; i < proxyRejected.length; i++) {
            proxyRejected[i] = new LongAdder();
        }
        this.watchdog = new Watchdog(this, config.idleTimeout(), config.writeTimeout(),
                proxy.enabled() ? proxy.headerTimeout() : Duration.ZERO);
        // The acceptor runs like the connections. A virtual one also makes the JDK set up its
        // pollers now, while file descriptors are plentiful, rather than at the first busy moment.
        Thread.Builder a = config.engine() == Engine.VIRTUAL_THREADS ? Thread.ofVirtual() : Thread.ofPlatform();
        this.acceptor = a.name("coecho-acceptor").unstarted(this::acceptLoop);
    }

    public static BlockingServer start(ServerConfig config) throws IOException {
        BlockingServer server = new BlockingServer(config, listen(config));
        BlockingConnection.preload();
        Thread.ofPlatform().name("coecho-watchdog").start(server.watchdog);
        server.acceptor.start();
        return server;
    }

    private static ServerSocketChannel listen(ServerConfig config) throws IOException {
        ServerSocketChannel l = ServerSocketChannel.open();
        try {
            // SO_REUSEADDR: a restarted server can bind while old connections sit in TIME_WAIT.
            l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            l.bind(config.address(), config.backlog());
            return l;
        } catch (IOException e) {
            l.close();
            if (e instanceof BindException) {
                InetSocketAddress a = config.address();
                String reason = e.getMessage() == null ? "bind failed" : e.getMessage().toLowerCase(Locale.ROOT);
                throw new BindException("cannot bind " + a.getAddress().getHostAddress() + ":" + a.getPort() + ": " + reason);
            }
            throw e;
        }
    }

    /** The seed's accept_loop: take a slot, take a connection, start its thread, repeat. */
    private void acceptLoop() {
        try {
            while (!closing.get()) {
                takeSlot();
                try {
                    serve(listener.accept());
                } catch (ClosedChannelException e) {
                    return; // the listener was closed: we are draining
                } catch (IOException | OutOfMemoryError | RuntimeException e) {
                    // Out of fds (EMFILE), or no memory for a thread: the connection waits in the backlog.
                    // Never ends the acceptor; nothing here loads a class of ours (out of fds, one may not load).
                    releaseSlot();
                    acceptErrors++;
                    String shortage = e instanceof IOException io ? ResourceShortage.errnoName(io) : null;
                    failures.failed(shortage != null ? shortage : String.valueOf(e.getMessage()), ACCEPT_BACKOFF_MILLIS);
                    Thread.sleep(ACCEPT_BACKOFF_MILLIS);
                    continue;
                }
                failures.succeeded();
            }
        } catch (InterruptedException e) {
            // close() interrupts a wait for a slot or a back-off: we are draining.
        } finally {
            acceptorDone = true;
            watchdog.poke();
        }
    }

    /** Starts the connection's thread; on failure closes the socket and rethrows. */
    private void serve(SocketChannel socket) throws IOException {
        BlockingConnection c = new BlockingConnection(this, socket, watchdog.watchesTimeouts(), watchdog.headerNanos());
        connections.add(c);
        accepted++;
        try {
            threads.start(c);
        } catch (OutOfMemoryError | RuntimeException e) {
            accepted--;
            connections.remove(c);
            socket.close();
            throw e;
        }
    }

    private void takeSlot() throws InterruptedException {
        if (slots == null || slots.tryAcquire()) {
            return;
        }
        // At --max-connections: leave new connections in the backlog until a slot frees.
        admissionWaits++;
        LOG.log(limitLogged ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
                "{0} connections open (--max-connections): new ones wait in the backlog until one closes",
                String.valueOf(config.maxConnections()));
        limitLogged = true;
        slots.acquire();
    }

    private void releaseSlot() {
        if (slots != null) {
            slots.release();
        }
    }

    ByteBuffer takeBuffer() {
        ByteBuffer b = spareBuffers.poll();
        return b != null ? b : ByteBuffer.allocateDirect(config.bufferSize());
    }

    void giveBack(ByteBuffer b) {
        spareBuffers.offer(b);
    }

    /** Called last on each connection's thread. */
    void connectionEnded(BlockingConnection c) {
        connections.remove(c);
        if (draining && !c.isClosedByServer()) {
            drained.increment();
        }
        closed.increment();
        releaseSlot();
        if (closing.get()) {
            watchdog.poke();
        }
    }

    /**
     * A peer outside --proxy-trusted was refused: the first time, say so loudly (a missing
     * --proxy-trusted would refuse every balancer); the connection says it at DEBUG. Any thread.
     */
    void untrustedPeer(java.net.SocketAddress peer) {
        if (untrustedWarned.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "closed a connection from {0}: not in --proxy-trusted ({1});"
                    + " further ones are logged at DEBUG and counted", peer, proxy.trusted());
        }
    }

    Set<BlockingConnection> connections() {
        return connections;
    }

    /** Cuts every connection still open (the shutdown timeout passed). Watchdog thread. */
    void cutAll() {
        for (BlockingConnection c : connections) {
            c.cut();
        }
    }

    boolean isFinished() {
        return closing.get() && acceptorDone && connections.isEmpty();
    }

    @Override
    public InetSocketAddress address() {
        return address;
    }

    @Override
    public String description() {
        return config.engine().label() + " engine, 1 acceptor";
    }

    /** Connections whose write waits for the peer now (a blocking write cannot say so; its age does). */
    private long writesStalled() {
        long now = System.nanoTime();
        return connections.stream().filter(c -> c.writeStalled(now)).count();
    }

    @Override
    public ServerStats stats() {
        long closedNow = closed.sum();
        return new ServerStats(Math.max(0, accepted - closedNow), accepted, closedNow, bytesIn.sum(), bytesOut.sum(),
                idleTimeouts.sum(), writeTimeouts.sum(), drained.sum(), cut.sum(), acceptErrors,
                admissionWaits, writeWaits.sum(), writesStalled(), sourceLimited.sum(), rejections());
    }

    private ProxyRejections rejections() {
        long[] byReason = new long[proxyRejected.length];
        for (int i = 0; i < byReason.length; i++) {
            byReason[i] = proxyRejected[i].sum();
        }
        return ProxyRejections.of(byReason);
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        watchdog.shutdownBy(System.nanoTime() + config.shutdownTimeout().toNanos());
        // Handshake with BlockingConnection.receive(): publish "draining", then look at "reading".
        draining = true;
        try {
            listener.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the listener: {0}", e.toString());
        }
        acceptor.interrupt();
        // A listener closed under a thread blocked in accept is really closed (its port released, new
        // connects refused) only when that thread has left accept: wait for it, briefly, so that
        // "stop accepting at once" holds when close() returns.
        try {
            acceptor.join(Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (BlockingConnection c : connections) {
            c.wakeIfReading();
        }
    }

    @Override
    public void closeNow() {
        close();
        watchdog.shutdownBy(System.nanoTime());
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return watchdog.awaitTermination(timeout);
    }
}
