package io.coecho.cli;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.linux.SystemdNotifier;
import io.coecho.server.Engine;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import io.coecho.server.admin.AdminPorts;
import io.coecho.server.admin.Readiness;
import io.coecho.server.admin.StatsReporter;
import io.coecho.server.udp.UdpStats;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code coecho serve}: runs the echo server until SIGTERM or SIGINT, then shuts down gracefully
 * (a second signal exits at once): not ready at once, still accepting for {@code --drain-delay}, then
 * the drain. Every option may also come from the environment ({@link EnvDefaults}).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the echo server (TCP; UDP with --udp).",
        footer = {"", "Every option can also be set in the environment as COECHO_<OPTION>: the long name in capitals,"
                + " dashes as underscores, e.g. COECHO_PORT=7, COECHO_UDP=true, COECHO_IDLE_TIMEOUT=30s,"
                + " COECHO_REUSE_PORT=false. The command line wins over the environment."})
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

    @Option(names = "--transport", defaultValue = "auto", description = "epoll, io_uring, nio, or auto (epoll on Linux). Default: ${DEFAULT-VALUE}.")
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

    @Option(names = {"--admin", "--metrics"}, paramLabel = "ADDRESS",
            description = "Serve HTTP at ADDRESS, e.g. 127.0.0.1:9100: /livez (200 while the process serves), "
                    + "/readyz (200 once listening, 503 from the first SIGTERM on), /metrics (Prometheus or OpenMetrics). "
                    + "--metrics is the old name. Default: off.")
    String admin;

    @Option(names = "--drain-delay", defaultValue = "0", converter = DurationOption.class,
            description = "On the first SIGTERM/SIGINT, report not ready at once but keep accepting this long, so that"
                    + " balancers stop sending first; then stop accepting and drain. Default: ${DEFAULT-VALUE}.")
    Duration drainDelay;

    @Option(names = "--agent-port", paramLabel = "[HOST:]PORT",
            description = "Answer HAProxy's agent-check here: 'up ready', then 'drain' from the first SIGTERM on. Default: off.")
    String agentPort;

    @Option(names = "--stats-interval", defaultValue = "0", converter = DurationOption.class,
            description = "Log a one-line summary this often, e.g. 10s (0: never). Default: ${DEFAULT-VALUE}.")
    Duration statsInterval;

    @CommandLine.Mixin
    UdpOptions udpOptions;

    @Option(names = "--log-level", defaultValue = "info", description = "error, warn, info, debug or trace. Default: ${DEFAULT-VALUE}.")
    String logLevel;

    @Option(names = "--log-format", defaultValue = "text",
            description = "text, or json: one object per line (time, level, logger, message, and fields such as"
                    + " connection, remote, reason). Default: ${DEFAULT-VALUE}.")
    Logging.Format logFormat;

    @Option(names = "--log-config", description = "A java.util.logging properties file (overrides --log-level and --log-format).")
    Path logConfig;

    @Override
    public Integer call() throws Exception {
        ServerConfig config = config();
        InetSocketAddress adminAddress = admin == null ? null : parseAddress("--admin", admin);
        InetSocketAddress agentAddress = agentPort == null ? null : parseAddress("--agent-port", agentPort);
        Logging.configure(logLevel, logConfig, logFormat);
        Readiness readiness = new Readiness();
        AdminPorts ports;
        Server server;
        try {
            ports = AdminPorts.open(adminAddress, agentAddress, readiness);
            try {
                server = Server.start(config);
            } catch (java.io.IOException | RuntimeException e) {
                ports.close();
                throw e;
            }
        } catch (java.io.IOException e) {
            startFailed(e.getMessage());
            return 1;
        }
        ports.serve(server);
        readiness.ready();
        // systemd (Type=notify): READY=1 once every listener is open, STOPPING=1 at the first signal;
        // nothing without $NOTIFY_SOCKET. The stop timeout is stretched to cover the drain delay and
        // --shutdown-timeout.
        SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
        // Signal handlers before the start-up line: whoever waits for that line may signal at once.
        CountDownLatch terminate = new CountDownLatch(1);
        AtomicReference<String> cause = new AtomicReference<>();
        // Installed for the life of the process: serve ends with it, so the handlers are never put back.
        Signals.onTerminate(signal -> {
            readiness.drain();
            cause.set(signal);
            if (!drainDelay.isZero()) {
                LOG.log(System.Logger.Level.INFO, "{0}: not ready (/readyz 503, agent check drain); still accepting"
                        + " for {1} ms (--drain-delay)", signal, String.valueOf(drainDelay.toMillis()));
            }
            systemd.notify("STOPPING=1\nSTATUS=" + (drainDelay.isZero() ? "draining connections" : "not ready, still accepting")
                    + "\nEXTEND_TIMEOUT_USEC=" + drainDelay.plus(shutdownTimeout).plusSeconds(5).toNanos() / 1000);
            terminate.countDown();
        }, signal -> {
            LOG.log(System.Logger.Level.WARNING, "second signal ({0}): exiting now", signal);
            Runtime.getRuntime().halt(130);
        });
        LOG.log(System.Logger.Level.INFO, "listening on {0} ({1}) with the {2}",
                format(server.address()), udpOptions.udp ? "tcp and udp" : "tcp", server.description());
        if (config.proxy().enabled()) {
            LOG.log(System.Logger.Level.INFO, "PROXY protocol (v1, v2) required on every TCP connection, from {0} only",
                    config.proxy().trusted());
        }
        if (ports.httpAddress() != null) {
            LOG.log(System.Logger.Level.INFO, "admin at http://{0}: /livez /readyz /metrics", format(ports.httpAddress()));
        }
        if (ports.agentAddress() != null) {
            LOG.log(System.Logger.Level.INFO, "agent check at {0}", format(ports.agentAddress()));
        }
        systemd.notify("READY=1\nSTATUS=listening on " + format(server.address()));
        StatsReporter reporter = statsInterval.isZero() ? null : StatsReporter.start(server, statsInterval);
        terminate.await();
        if (!drainDelay.isZero()) {
            // The delay itself: balancers saw "not ready" at the signal and stop sending meanwhile.
            Thread.sleep(drainDelay);
        }
        LOG.log(System.Logger.Level.INFO, "{0}, shutting down: no new connections; waiting up to {1} ms for open ones",
                drainDelay.isZero() ? cause.get() + ": not ready" : "drain delay over", String.valueOf(shutdownTimeout.toMillis()));
        if (!drainDelay.isZero()) {
            systemd.notify("STATUS=draining connections");
        }
        server.close();
        boolean clean = server.awaitTermination(shutdownTimeout.plusSeconds(5));
        if (reporter != null) {
            reporter.close();
        }
        ports.close();
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

    /** A server that cannot start: one line on stderr, as a log record when the lines are JSON. */
    private void startFailed(String message) {
        if (logFormat == Logging.Format.JSON && logConfig == null) {
            LOG.log(System.Logger.Level.ERROR, "cannot start: {0}", message);
        } else {
            spec.commandLine().getErr().println("coecho: " + message);
        }
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
