package io.coecho.server;

import io.coecho.runtime.TransportChoice;
import io.coecho.server.proxy.ProxyConfig;
import io.coecho.server.proxy.ProxyHeaderParser;
import io.coecho.server.udp.UdpConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a server needs to start, validated once. Immutable; any thread. Made with a
 * {@link Builder}: {@code ServerConfig.builder().address(new InetSocketAddress(9000)).threads(4).build()}, or changed from an
 * existing one with {@code config.toBuilder().transport(TransportChoice.NIO).build()}.
 *
 * @param address where to listen (port 0: an ephemeral port)
 * @param threads event loops (coroutines engine), each with its own thread
 * @param bufferSize bytes read per call; also the most a connection holds while its peer is slow
 * @param transport which transport the coroutines engine runs on
 * @param engine how connections are served
 * @param backlog listen backlog
 * @param maxConnections open connections at most; beyond, the server stops accepting (0: no limit)
 * @param idleTimeout close a connection that has read nothing and finished writing no echo for this
 *     long (zero: never); while an echo write waits for the peer, only writeTimeout applies
 * @param writeTimeout close a connection whose echo could not be written for this long (zero: never)
 * @param shutdownTimeout how long a graceful shutdown waits for connections to finish
 * @param udp UDP echo on the same address and port, and its safeguards (off by default)
 * @param reusePort with several loops, one listener per loop (SO_REUSEPORT) where the transport has it,
 *     the kernel spreading connections; otherwise one acceptor deals connections out round-robin
 * @param proxy the PROXY protocol: every TCP connection starts with a header that names the client
 *     (off by default)
 * @param maxConnectionsPerSource open connections at most from one source address, the PROXY
 *     header's client when that is on, across all loops; beyond, a new one is closed at once (0: no limit)
 */
public record ServerConfig(
        InetSocketAddress address,
        int threads,
        int bufferSize,
        TransportChoice transport,
        Engine engine,
        int backlog,
        int maxConnections,
        Duration idleTimeout,
        Duration writeTimeout,
        Duration shutdownTimeout,
        UdpConfig udp,
        boolean reusePort,
        ProxyConfig proxy,
        int maxConnectionsPerSource) {

    public static final int DEFAULT_PORT = 8080;
    /**
     * How long a drained connection, its echo written and our side shut down, goes on reading and
     * discarding what the peer still sends before it closes (until the peer's EOF, at most this long):
     * closing with unread data would make the kernel reset the connection and discard echo not yet
     * delivered. Every engine lingers the same.
     */
    public static final Duration DRAIN_LINGER = Duration.ofSeconds(2);
    public static final int DEFAULT_BUFFER_SIZE = 16 * 1024;
    /** The listen backlog where the system's maximum cannot be read. */
    public static final int DEFAULT_BACKLOG = 4096;

    public ServerConfig {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(udp, "udp");
        Objects.requireNonNull(proxy, "proxy");
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (bufferSize < 64 || bufferSize > 16 * 1024 * 1024) {
            throw new IllegalArgumentException("buffer size must be between 64 B and 16 MiB, got " + bufferSize);
        }
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1, got " + backlog);
        }
        if (maxConnections < 0) {
            throw new IllegalArgumentException("max connections must not be negative, got " + maxConnections);
        }
        if (maxConnectionsPerSource < 0) {
            throw new IllegalArgumentException("max connections per source must not be negative, got " + maxConnectionsPerSource);
        }
        if (proxy.enabled() && bufferSize < ProxyHeaderParser.MIN_BUFFER) {
            throw new IllegalArgumentException("the PROXY protocol needs a buffer size of at least "
                    + ProxyHeaderParser.MIN_BUFFER + " B, got " + bufferSize);
        }
        for (Duration d : new Duration[] {idleTimeout, writeTimeout, shutdownTimeout}) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("durations must not be negative, got " + d);
            }
        }
    }

    /**
     * A builder with the defaults an embedder or a test starts from: an ephemeral port on loopback,
     * one loop, the coroutines engine on the best transport here, no connection limit, no idle or
     * write timeout, a 5 s graceful shutdown, UDP and the PROXY protocol off, no per-source limit. (The CLI sets every field from its options.)
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to change some of it. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Collects a {@link ServerConfig} field by field; {@link #build()} validates it. One setter per
     * field, named after it. Not thread-safe: one thread builds.
     */
    public static final class Builder {
        private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
        private int threads = 1;
        private int bufferSize = DEFAULT_BUFFER_SIZE;
        private TransportChoice transport = TransportChoice.AUTO;
        private Engine engine = Engine.COROUTINES;
        private int backlog = DEFAULT_BACKLOG;
        private int maxConnections;
        private Duration idleTimeout = Duration.ZERO;
        private Duration writeTimeout = Duration.ZERO;
        private Duration shutdownTimeout = Duration.ofSeconds(5);
        private UdpConfig udp = UdpConfig.DEFAULTS;
        private boolean reusePort = true;
        private ProxyConfig proxy = ProxyConfig.OFF;
        private int maxConnectionsPerSource;

        private Builder() {}

        private Builder(ServerConfig c) {
            address = c.address;
            threads = c.threads;
            bufferSize = c.bufferSize;
            transport = c.transport;
            engine = c.engine;
            backlog = c.backlog;
            maxConnections = c.maxConnections;
            idleTimeout = c.idleTimeout;
            writeTimeout = c.writeTimeout;
            shutdownTimeout = c.shutdownTimeout;
            udp = c.udp;
            reusePort = c.reusePort;
            proxy = c.proxy;
            maxConnectionsPerSource = c.maxConnectionsPerSource;
        }

        public Builder address(InetSocketAddress address) {
            this.address = address;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder bufferSize(int bytes) {
            this.bufferSize = bytes;
            return this;
        }

        public Builder transport(TransportChoice transport) {
            this.transport = transport;
            return this;
        }

        public Builder engine(Engine engine) {
            this.engine = engine;
            return this;
        }

        public Builder backlog(int backlog) {
            this.backlog = backlog;
            return this;
        }

        public Builder maxConnections(int max) {
            this.maxConnections = max;
            return this;
        }

        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = timeout;
            return this;
        }

        public Builder writeTimeout(Duration timeout) {
            this.writeTimeout = timeout;
            return this;
        }

        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = timeout;
            return this;
        }

        /** UDP echo and its safeguards ({@code udp(UdpConfig.builder().enabled(true).build())}: UDP on). */
        public Builder udp(UdpConfig udp) {
            this.udp = udp;
            return this;
        }

        /** One listener per loop (SO_REUSEPORT, true) or one acceptor dealing connections out (false). */
        public Builder reusePort(boolean on) {
            this.reusePort = on;
            return this;
        }

        /** The PROXY protocol ({@code proxy(ProxyConfig.from(CidrList.LOOPBACK))}: on, for local balancers). */
        public Builder proxy(ProxyConfig proxy) {
            this.proxy = proxy;
            return this;
        }

        public Builder maxConnectionsPerSource(int max) {
            this.maxConnectionsPerSource = max;
            return this;
        }

        /** The configuration; throws IllegalArgumentException (or NullPointerException) if a field is wrong. */
        public ServerConfig build() {
            return new ServerConfig(address, threads, bufferSize, transport, engine, backlog, maxConnections,
                    idleTimeout, writeTimeout, shutdownTimeout, udp, reusePort, proxy, maxConnectionsPerSource);
        }
    }

    /**
     * The system's largest listen backlog (Linux: net.core.somaxconn), the default for --backlog: the
     * kernel caps any larger value to it anyway. {@link #DEFAULT_BACKLOG} where it cannot be read.
     */
    public static int systemMaxBacklog() {
        // Read as a stream: procfs reports a size of 0, and Files.readString trusts the size (it
        // returned "4" for "4096", a backlog that drops connections in any storm).
        try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of("/proc/sys/net/core/somaxconn"))) {
            String v = r.readLine();
            int n = v == null ? 0 : Integer.parseInt(v.trim());
            return n > 0 ? n : DEFAULT_BACKLOG;
        } catch (java.io.IOException | NumberFormatException | SecurityException e) {
            return DEFAULT_BACKLOG;
        }
    }
}
