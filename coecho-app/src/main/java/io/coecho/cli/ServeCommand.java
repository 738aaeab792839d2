package io.coecho.cli;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.linux.SystemdNotifier;
import io.coecho.server.Engine;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import io.coecho.server.admin.MetricsEndpoint;
import io.coecho.server.admin.StatsReporter;
import io.coecho.server.udp.UdpStats;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code coecho serve}: runs the echo server until SIGTERM or SIGINT, then shuts down gracefully
 * (a second signal exits at once).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the echo server (TCP; UDP with --udp).")
final class ServeCommand implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger("io.coecho.Serve");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-p", "--port"}, defaultValue = "8080", description = "TCP port (0: any free port). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = {"-b", "--bind"}, defaultValue = "0.0.0.0", description = "Address to listen on. Default: ${DEFAULT-VALUE} (all IPv4 interfaces; :: for IPv6 too).")
    String bind;

    @Option(names = {"-t", "--threads"}, description = "Event loops, one thread each. Default: the number of processors.")
    Integer threads;

    @Option(names = "--buffer-size", defaultValue = "16KiB", converter = SizeOption.class,
            description = "Bytes read per call, and the most a connection buffers for a slow peer. Default: ${DEFAULT-VALUE}.")
    long bufferSize;

    @Option(names = "--reuse-port", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "With several loops: one listening socket per loop (SO_REUSEPORT, the kernel spreads connections). "
                    + "--no-reuse-port: one acceptor deals connections out round-robin. Default: on where the transport has it.")
    boolean reusePort;

    @Option(names = "--transport", defaultValue = "auto", description = "epoll, nio, or auto (epoll on Linux). Default: ${DEFAULT-VALUE}.")
    String transport;

    @Option(names = "--engine", defaultValue = "coroutines", description = "coroutines, virtual-threads or threads. Default: ${DEFAULT-VALUE}.")
    String engine;

    @Option(names = "--backlog", description = "Listen backlog. Default: the system's maximum (net.core.somaxconn), else 4096.")
    Integer backlog;

    @Option(names = "--max-connections", defaultValue = "65536", description = "Open connections at most; at the limit new ones wait in the backlog (0: no limit). Default: ${DEFAULT-VALUE}.")
    int maxConnections;

    @CommandLine.Mixin
    ProxyOptions proxyOptions;

    @Option(names = "--idle-timeout", defaultValue = "5m", converter = DurationOption.class,
            description = "Close connections idle this long (0: never). Default: ${DEFAULT-VALUE}.")
    Duration idleTimeout;

    @Option(names = "--write-timeout", defaultValue = "30s", converter = DurationOption.class,
            description = "Close a connection whose echo cannot be written for this long: a peer that stops reading (0: never). Default: ${DEFAULT-VALUE}.")
    Duration writeTimeout;

    @Option(names = "--shutdown-timeout", defaultValue = "5s", converter = DurationOption.class,
            description = "On SIGTERM/SIGINT, wait this long for connections to finish, then cut them. Default: ${DEFAULT-VALUE}.")
    Duration shutdownTimeout;

    @Option(names = "--metrics", description = "Serve Prometheus metrics at http://ADDRESS/metrics, e.g. 127.0.0.1:9100 (off by default).")
    String metrics;

    @Option(names = "--stats-interval", defaultValue = "0", converter = DurationOption.class,
            description = "Log a one-line summary this often, e.g. 10s (0: never). Default: ${DEFAULT-VALUE}.")
    Duration statsInterval;

    @CommandLine.Mixin
    UdpOptions udpOptions;

    @Option(names = "--log-level", defaultValue = "info", description = "error, warn, info, debug or trace. Default: ${DEFAULT-VALUE}.")
    String logLevel;

    @Option(names = "--log-config", description = "A java.util.logging properties file (overrides --log-level).")
    Path logConfig;

    @Override
    public Integer call() throws Exception {
        ServerConfig config = config();
        InetSocketAddress metricsAddress = metrics == null ? null : parseAddress("--metrics", metrics);
        Logging.configure(logLevel, logConfig);
        Server server;
        MetricsEndpoint endpoint = null;
        try {
            server = Server.start(config);
            if (metricsAddress != null) {
                try {
                    endpoint = MetricsEndpoint.start(server, metricsAddress);
                } catch (java.io.IOException e) {
                    server.closeNow();
                    throw e;
                }
            }
        } catch (java.io.IOException e) {
            spec.commandLine().getErr().println("coecho: " + e.getMessage());
            return 1;
        }
        // systemd (Type=notify): READY=1 once every listener is open, STOPPING=1 when the drain begins;
        // nothing without $NOTIFY_SOCKET. The stop timeout is stretched to cover --shutdown-timeout.
        SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
        // Signal handlers before the start-up line: whoever waits for that line may signal at once.
        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTerminate(() -> {
            LOG.log(System.Logger.Level.INFO, "shutting down: no new connections; waiting up to {0} ms for open ones",
                    String.valueOf(shutdownTimeout.toMillis()));
            systemd.notify("STOPPING=1\nSTATUS=draining connections\nEXTEND_TIMEOUT_USEC="
                    + shutdownTimeout.plusSeconds(5).toNanos() / 1000);
            server.close();
            stop.countDown();
        }, () -> {
            LOG.log(System.Logger.Level.WARNING, "second signal: exiting now");
            Runtime.getRuntime().halt(130);
        });
        LOG.log(System.Logger.Level.INFO, "listening on {0} ({1}) with the {2}",
                format(server.address()), udpOptions.udp ? "tcp and udp" : "tcp", server.description());
        if (config.proxy().enabled()) {
            LOG.log(System.Logger.Level.INFO, "PROXY protocol (v1, v2) required on every TCP connection, from {0} only",
                    config.proxy().trusted());
        }
        if (endpoint != null) {
            LOG.log(System.Logger.Level.INFO, "metrics at http://{0}/metrics", format(endpoint.address()));
        }
        systemd.notify("READY=1\nSTATUS=listening on " + format(server.address()));
        StatsReporter reporter = statsInterval.isZero() ? null : StatsReporter.start(server, statsInterval);
        stop.await();
        boolean clean = server.awaitTermination(shutdownTimeout.plusSeconds(5));
        if (reporter != null) {
            reporter.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
        ServerStats s = server.stats();
        LOG.log(System.Logger.Level.INFO, "stopped: {0} connections drained, {1} cut; {2} served in all",
                String.valueOf(s.drained()), String.valueOf(s.cut()), String.valueOf(s.accepted()));
        if (udpOptions.udp) {
            UdpStats u = server.udpStats();
            LOG.log(System.Logger.Level.INFO, "udp: {0} datagrams received, {1} answered, {2} not answered",
                    String.valueOf(u.received()), String.valueOf(u.echoed()),
                    String.valueOf(u.droppedTotal()));
        }
        return clean ? 0 : 1;
    }

    private ServerConfig config() {
        CommandLine cl = spec.commandLine();
        if (port < 0 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "--port must be between 0 and 65535, got " + port);
        }
        InetAddress addr;
        try {
            addr = InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new CommandLine.ParameterException(cl, "--bind: unknown address '" + bind + "'");
        }
        int loops = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (bufferSize > Integer.MAX_VALUE) {
            throw new CommandLine.ParameterException(cl, "--buffer-size is too large: " + bufferSize);
        }
        try {
            Engine how = Engine.parse(engine);
            return ServerConfig.builder().address(new InetSocketAddress(addr, port)).threads(loops)
                    .bufferSize((int) bufferSize).transport(TransportChoice.parse(transport)).engine(how)
                    .backlog(backlog != null ? backlog : ServerConfig.systemMaxBacklog()).maxConnections(maxConnections)
                    .idleTimeout(idleTimeout).writeTimeout(writeTimeout).shutdownTimeout(shutdownTimeout)
                    .udp(udpOptions.config(how)).reusePort(reusePort).proxy(proxyOptions.config())
                    .maxConnectionsPerSource(proxyOptions.maxConnectionsPerSource).build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    /** "host:port", "[v6]:port" or ":port" (all interfaces). */
    private InetSocketAddress parseAddress(String option, String value) {
        int colon = value.lastIndexOf(':');
        String host = colon <= 0 ? "0.0.0.0" : value.substring(0, colon).replace("[", "").replace("]", "");
        String portText = colon < 0 ? value : value.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + ": '" + value + "' is not HOST:PORT");
        }
        if (p < 0 || p > 65535) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + ": port must be between 0 and 65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p);
        } catch (UnknownHostException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + ": unknown address '" + host + "'");
        }
    }

    static String format(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
