package io.coecho.loadgen;

import io.coecho.runtime.TransportChoice;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything a load run needs, validated once. Immutable; any thread. Made with a {@link Builder},
 * like the server's configuration: {@code LoadConfig.builder(target).connections(100).build()}.
 *
 * @param target the echo server (resolved)
 * @param connections connections to open, all kept busy for the whole run
 * @param duration the measured window
 * @param warmup traffic before the window, not measured (zero: none)
 * @param size bytes per message, 1 B to 16 MiB
 * @param pipeline messages in flight per connection
 * @param rate total messages per second across all connections (open loop), or 0 for a closed loop
 *     (each connection sends as soon as an answer frees a pipeline slot)
 * @param threads event loops, one thread each
 * @param transport which transport the client loops run on
 * @param connectTimeout how long one connect may take
 * @param udp UDP instead of TCP: each connection is a socket sending size-byte datagrams
 * @param udpTimeout UDP: a datagram not echoed within this long is lost (and frees its pipeline slot)
 * @param maxLoss UDP: the run fails when more than this percentage of the window's datagrams is lost
 * @param reconnect TCP: a connection the server closes at a message boundary (as a draining server
 *     closes idle ones) is opened again and goes on, counted as a reconnect, not as a failure
 */
public record LoadConfig(
        InetSocketAddress target,
        int connections,
        Duration duration,
        Duration warmup,
        int size,
        int pipeline,
        double rate,
        int threads,
        TransportChoice transport,
        Duration connectTimeout,
        boolean udp,
        Duration udpTimeout,
        double maxLoss,
        boolean reconnect) {

    public static final int MAX_SIZE = 16 * 1024 * 1024;
    public static final int MAX_CONNECTIONS = 1_000_000;
    public static final int MAX_PIPELINE = 65_536;
    /** Connects in flight at once across all loops: enough for speed, few enough not to flood a backlog. */
    public static final int CONNECTS_IN_FLIGHT = 256;
    /** The largest UDP message: the largest IPv4 UDP payload. */
    public static final int MAX_DATAGRAM = 65_507;
    public static final Duration DEFAULT_UDP_TIMEOUT = Duration.ofSeconds(1);
    public static final double DEFAULT_MAX_LOSS = 1.0;

    public LoadConfig {
        if (target.isUnresolved()) {
            throw new IllegalArgumentException("unknown host '" + target.getHostString() + "'");
        }
        if (target.getPort() < 1 || target.getPort() > 65535) {
            throw new IllegalArgumentException("port must be between 1 and 65535, got " + target.getPort());
        }
        if (connections < 1 || connections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("connections must be between 1 and " + MAX_CONNECTIONS + ", got " + connections);
        }
        if (size < 1 || size > MAX_SIZE) {
            throw new IllegalArgumentException("size must be between 1 B and 16 MiB (16777216 B), got " + size + " B");
        }
        if (pipeline < 1 || pipeline > MAX_PIPELINE) {
            throw new IllegalArgumentException("pipeline must be between 1 and " + MAX_PIPELINE + ", got " + pipeline);
        }
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw new IllegalArgumentException("rate must be a positive number of messages per second, got " + rate);
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be between 1 and 1024, got " + threads);
        }
        Objects.requireNonNull(transport, "transport");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, got " + duration.toMillis() + " ms");
        }
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("warmup must not be negative");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connect timeout must be positive");
        }
        if (udp) {
            checkUdp(size, pipeline, udpTimeout, maxLoss);
        }
        if (udp && reconnect) {
            throw new IllegalArgumentException("reconnecting applies to TCP connections, not to UDP");
        }
    }

    private static void checkUdp(int size, int pipeline, Duration udpTimeout, double maxLoss) {
        if (size > MAX_DATAGRAM) {
            throw new IllegalArgumentException("a UDP message must be at most " + MAX_DATAGRAM
                    + " B (the largest IPv4 datagram), got " + size + " B");
        }
        // Datagrams shorter than a sequence number carry only its low bytes: see UdpClientSocket.
        if (size < Long.BYTES && pipeline > 1L << (8 * size - 1)) {
            throw new IllegalArgumentException("with " + size + "-byte UDP messages the pipeline must be at most "
                    + (1L << (8 * size - 1)) + ", got " + pipeline);
        }
        if (udpTimeout.isNegative() || udpTimeout.isZero()) {
            throw new IllegalArgumentException("the UDP loss timeout must be positive, got "
                    + udpTimeout.toMillis() + " ms");
        }
        if (!(maxLoss >= 0 && maxLoss <= 100)) {
            throw new IllegalArgumentException("the maximum loss must be between 0 and 100 percent, got " + maxLoss);
        }
    }

    /** True for an open loop (a --rate was given). */
    public boolean paced() {
        return rate > 0;
    }

    /**
     * A builder for a run against target, holding the defaults tests start from: a short closed-loop
     * run (4 connections, 500 ms, 32-byte messages, one in flight each, one loop) over TCP. (The CLI
     * sets every field from its options.)
     */
    public static Builder builder(InetSocketAddress target) {
        return new Builder(target);
    }

    /**
     * Collects a {@link LoadConfig} field by field; {@link #build()} validates it. One setter per
     * field, named after it. Not thread-safe: one thread builds.
     */
    public static final class Builder {
        private final InetSocketAddress target;
        private int connections = 4;
        private Duration duration = Duration.ofMillis(500);
        private Duration warmup = Duration.ZERO;
        private int size = 32;
        private int pipeline = 1;
        private double rate;
        private int threads = 1;
        private TransportChoice transport = TransportChoice.AUTO;
        private Duration connectTimeout = Duration.ofSeconds(2);
        private boolean udp;
        private Duration udpTimeout = DEFAULT_UDP_TIMEOUT;
        private double maxLoss = DEFAULT_MAX_LOSS;
        private boolean reconnect;

        private Builder(InetSocketAddress target) {
            this.target = target;
        }

        public Builder connections(int n) {
            this.connections = n;
            return this;
        }

        public Builder duration(Duration d) {
            this.duration = d;
            return this;
        }

        public Builder warmup(Duration d) {
            this.warmup = d;
            return this;
        }

        public Builder size(int bytes) {
            this.size = bytes;
            return this;
        }

        public Builder pipeline(int messages) {
            this.pipeline = messages;
            return this;
        }

        /** Messages per second across all connections (open loop); 0: closed loop. */
        public Builder rate(double perSecond) {
            this.rate = perSecond;
            return this;
        }

        public Builder threads(int n) {
            this.threads = n;
            return this;
        }

        public Builder transport(TransportChoice transport) {
            this.transport = transport;
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        /** UDP instead of TCP (see {@link #udpTimeout} and {@link #maxLoss} for its loss rules). */
        public Builder udp(boolean on) {
            this.udp = on;
            return this;
        }

        public Builder udpTimeout(Duration d) {
            this.udpTimeout = d;
            return this;
        }

        /** The loss, in percent of the window's datagrams, above which a UDP run fails. */
        public Builder maxLoss(double percent) {
            this.maxLoss = percent;
            return this;
        }

        /** Reopen connections the server closes at a message boundary (TCP), counted as reconnects. */
        public Builder reconnect(boolean on) {
            this.reconnect = on;
            return this;
        }

        /** The configuration; throws IllegalArgumentException if a field is out of range. */
        public LoadConfig build() {
            return new LoadConfig(target, connections, duration, warmup, size, pipeline, rate, threads, transport,
                    connectTimeout, udp, udpTimeout, maxLoss, reconnect);
        }
    }
}
