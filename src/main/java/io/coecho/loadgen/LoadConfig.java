package io.coecho.loadgen;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Everything a load run needs, validated once. Immutable.
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
 * @param transport "epoll", "nio" or "auto"
 * @param connectTimeout how long one connect may take
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
        String transport,
        Duration connectTimeout) {

    public static final int MAX_SIZE = 16 * 1024 * 1024;
    public static final int MAX_CONNECTIONS = 1_000_000;
    public static final int MAX_PIPELINE = 65_536;
    /** Connects in flight at once across all loops: enough for speed, few enough not to flood a backlog. */
    public static final int CONNECTS_IN_FLIGHT = 256;

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
        if (!transport.equals("auto") && !transport.equals("epoll") && !transport.equals("nio")) {
            throw new IllegalArgumentException("transport must be epoll, nio or auto, got " + transport);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, got " + duration.toMillis() + " ms");
        }
        if (warmup.isNegative()) {
            throw new IllegalArgumentException("warmup must not be negative");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException("connect timeout must be positive");
        }
    }

    /** A short closed-loop run against target: what tests start from. */
    public static LoadConfig of(InetSocketAddress target) {
        return new LoadConfig(target, 4, Duration.ofMillis(500), Duration.ZERO, 32, 1, 0, 1, "auto",
                Duration.ofSeconds(2));
    }

    /** True for an open loop (a --rate was given). */
    public boolean paced() {
        return rate > 0;
    }

    public LoadConfig withConnections(int n) {
        return new LoadConfig(target, n, duration, warmup, size, pipeline, rate, threads, transport, connectTimeout);
    }

    public LoadConfig withSize(int s) {
        return new LoadConfig(target, connections, duration, warmup, s, pipeline, rate, threads, transport, connectTimeout);
    }

    public LoadConfig withPipeline(int p) {
        return new LoadConfig(target, connections, duration, warmup, size, p, rate, threads, transport, connectTimeout);
    }

    public LoadConfig withRate(double r) {
        return new LoadConfig(target, connections, duration, warmup, size, pipeline, r, threads, transport, connectTimeout);
    }

    public LoadConfig withThreads(int t) {
        return new LoadConfig(target, connections, duration, warmup, size, pipeline, rate, t, transport, connectTimeout);
    }

    public LoadConfig withDuration(Duration d) {
        return new LoadConfig(target, connections, d, warmup, size, pipeline, rate, threads, transport, connectTimeout);
    }
}
