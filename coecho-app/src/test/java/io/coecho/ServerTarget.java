package io.coecho;

import io.coecho.runtime.TransportChoice;
import io.coecho.server.Engine;
import io.coecho.server.ServerConfig;
import java.util.List;

/**
 * Every way of running the echo server that the scenario tests cover: each scenario is written once
 * and runs against all of these (Netty's testsuite idea, as a JUnit parameter rather than one
 * subclass per transport, so that adding a target is one line here and not one file per scenario).
 *
 * <p>Run a subset with {@code -Dcoecho.targets=epoll,nio} (names as {@link #label()}).
 */
public enum ServerTarget {
    EPOLL("epoll", Engine.COROUTINES, TransportChoice.EPOLL),
    IO_URING("io_uring", Engine.COROUTINES, TransportChoice.IO_URING),
    NIO("nio", Engine.COROUTINES, TransportChoice.NIO),
    VIRTUAL_THREADS("virtual-threads", Engine.VIRTUAL_THREADS, TransportChoice.AUTO),
    THREADS("threads", Engine.THREADS, TransportChoice.AUTO);

    private final String label;
    private final Engine engine;
    private final TransportChoice transport;

    ServerTarget(String label, Engine engine, TransportChoice transport) {
        this.label = label;
        this.engine = engine;
        this.transport = transport;
    }

    public String label() {
        return label;
    }

    /** True where --udp works: the coroutine engine, on every transport. */
    public boolean servesUdp() {
        return engine == Engine.COROUTINES;
    }

    /** The engine: the coroutine engine's targets (one per transport) log and count per loop. */
    public Engine engine() {
        return engine;
    }

    /** The in-process configuration: loopback, an ephemeral port, otherwise the defaults. */
    public ServerConfig.Builder config() {
        return ServerConfig.builder().transport(transport).engine(engine);
    }

    /**
     * The transport of a fault-injecting proxy in front of this target (the examples' forwarder): the
     * other one than the server's where the server runs on one of the runtime's, so that a bug of a
     * transport cannot cancel itself out on both sides of the proxy.
     */
    public TransportChoice proxyTransport() {
        return transport == TransportChoice.EPOLL ? TransportChoice.NIO : TransportChoice.EPOLL;
    }

    /** The same choice as command-line options of {@code coecho serve}. */
    public List<String> cliArgs() {
        return List.of("--engine", engine.label(), "--transport", transport.label());
    }

    /** The targets to run: all, or those named in the system property coecho.targets. */
    public static List<ServerTarget> selected() {
        String only = System.getProperty("coecho.targets", "").trim();
        if (only.isEmpty()) {
            return List.of(values());
        }
        List<String> names = List.of(only.split("\\s*,\\s*"));
        return java.util.Arrays.stream(values()).filter(t -> names.contains(t.label)).toList();
    }

    /** The selected targets that serve --udp (see {@link #servesUdp()}): UDP scenarios run on these. */
    public static java.util.stream.Stream<ServerTarget> selectedWithUdp() {
        return selected().stream().filter(ServerTarget::servesUdp);
    }

    @Override
    public String toString() {
        return label;
    }
}
