package io.coecho;

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
    EPOLL("epoll", Engine.COROUTINES, "epoll"),
    NIO("nio", Engine.COROUTINES, "nio"),
    VIRTUAL_THREADS("virtual-threads", Engine.VIRTUAL_THREADS, "auto"),
    THREADS("threads", Engine.THREADS, "auto");

    private final String label;
    private final Engine engine;
    private final String transport;

    ServerTarget(String label, Engine engine, String transport) {
        this.label = label;
        this.engine = engine;
        this.transport = transport;
    }

    public String label() {
        return label;
    }

    /** The in-process configuration: loopback, an ephemeral port, otherwise the defaults. */
    public ServerConfig config() {
        return ServerConfig.loopback().withTransport(transport).withEngine(engine);
    }

    /** The same choice as command-line options of {@code coecho serve}. */
    public List<String> cliArgs() {
        return List.of("--engine", engine.label(), "--transport", transport);
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

    @Override
    public String toString() {
        return label;
    }
}
