package io.coecho.server;

import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Everything a server needs to start, validated once. Immutable.
 *
 * @param address where to listen (port 0: an ephemeral port)
 * @param threads event loops (coroutines engine), each with its own thread
 * @param bufferSize bytes read per call; also the most a connection holds while its peer is slow
 * @param transport "epoll", "nio", or "auto" (epoll where available)
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
 */
public record ServerConfig(
        InetSocketAddress address,
        int threads,
        int bufferSize,
        String transport,
        Engine engine,
        int backlog,
        int maxConnections,
        Duration idleTimeout,
        Duration writeTimeout,
        Duration shutdownTimeout,
        UdpConfig udp,
        boolean reusePort) {

    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_BUFFER_SIZE = 16 * 1024;
    /** The listen backlog where the system's maximum cannot be read. */
    public static final int DEFAULT_BACKLOG = 4096;

    public ServerConfig {
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
        if (!transport.equals("auto") && !transport.equals("epoll") && !transport.equals("nio")) {
            throw new IllegalArgumentException("transport must be epoll, nio or auto, got " + transport);
        }
        java.util.Objects.requireNonNull(udp, "udp");
        for (Duration d : new Duration[] {idleTimeout, writeTimeout, shutdownTimeout}) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("durations must not be negative, got " + d);
            }
        }
    }

    /** A TCP-only configuration (UDP off, its safeguards at their defaults). */
    public ServerConfig(InetSocketAddress address, int threads, int bufferSize, String transport, Engine engine,
            int backlog, int maxConnections, Duration idleTimeout, Duration writeTimeout, Duration shutdownTimeout) {
        this(address, threads, bufferSize, transport, engine, backlog, maxConnections, idleTimeout, writeTimeout,
                shutdownTimeout, UdpConfig.DEFAULTS, true);
    }

    /** Defaults on an ephemeral loopback port: what tests and embedders start from. */
    public static ServerConfig loopback() {
        return new ServerConfig(new InetSocketAddress("127.0.0.1", 0), 1, DEFAULT_BUFFER_SIZE, "auto",
                Engine.COROUTINES, DEFAULT_BACKLOG, 0, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(5));
    }

    public ServerConfig withTransport(String t) {
        return new ServerConfig(address, threads, bufferSize, t, engine, backlog, maxConnections, idleTimeout,
                writeTimeout, shutdownTimeout, udp, reusePort);
    }

    public ServerConfig withEngine(Engine e) {
        return new ServerConfig(address, threads, bufferSize, transport, e, backlog, maxConnections, idleTimeout,
                writeTimeout, shutdownTimeout, udp, reusePort);
    }

    public ServerConfig withThreads(int n) {
        return new ServerConfig(address, n, bufferSize, transport, engine, backlog, maxConnections, idleTimeout,
                writeTimeout, shutdownTimeout, udp, reusePort);
    }

    /** This configuration with other UDP settings ({@code withUdp(UdpConfig.DEFAULTS.enable())}: UDP on). */
    public ServerConfig withUdp(UdpConfig u) {
        return new ServerConfig(address, threads, bufferSize, transport, engine, backlog, maxConnections, idleTimeout,
                writeTimeout, shutdownTimeout, u, reusePort);
    }

    public ServerConfig withMaxConnections(int n) {
        return new ServerConfig(address, threads, bufferSize, transport, engine, backlog, n, idleTimeout,
                writeTimeout, shutdownTimeout, udp, reusePort);
    }

    public ServerConfig withTimeouts(Duration idle, Duration write) {
        return new ServerConfig(address, threads, bufferSize, transport, engine, backlog, maxConnections, idle,
                write, shutdownTimeout, udp, reusePort);
    }

    public ServerConfig withShutdownTimeout(Duration d) {
        return new ServerConfig(address, threads, bufferSize, transport, engine, backlog, maxConnections, idleTimeout,
                writeTimeout, d, udp, reusePort);
    }

    public ServerConfig withBufferSize(int bytes) {
        return new ServerConfig(address, threads, bytes, transport, engine, backlog, maxConnections, idleTimeout,
                writeTimeout, shutdownTimeout, udp, reusePort);
    }

    /** This configuration with one acceptor dealing connections out (false) or SO_REUSEPORT (true). */
    public ServerConfig withReusePort(boolean on) {
        return new ServerConfig(address, threads, bufferSize, transport, engine, backlog, maxConnections, idleTimeout,
                writeTimeout, shutdownTimeout, udp, on);
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
