package io.coecho.cli;

import io.coecho.loadgen.LoadConfig;
import io.coecho.loadgen.LoadGenerator;
import io.coecho.loadgen.ProgressLine;
import io.coecho.loadgen.Report;
import io.coecho.runtime.TransportChoice;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code coecho bench}: the load generator. Exit status 0 when every echoed byte came back right
 * and every connection opened and answered, 1 when anything failed (the report says what), 2 for
 * bad options or a server that cannot be reached at all.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Load an echo server and verify every echoed byte.",
            "Each connection sends a deterministic byte stream of its own; the echo is compared with it byte for byte."
                    + " Connections open at most " + LoadConfig.CONNECTS_IN_FLIGHT + " at a time, each within"
                    + " --connect-timeout and all within twice that; after the warmup, the measured window runs"
                    + " for --duration, then sending stops and echoes in flight get 1 s before the connections close."
                    + " Ctrl-C (SIGINT) or SIGTERM ends the window at once and reports it as far as it ran; a second"
                    + " one exits (status 130).",
            "With --udp each connection is a UDP socket sending --size byte datagrams (at most 65507), each numbered,"
                    + " so echoes are matched even when reordered; every byte is checked. A datagram not echoed within"
                    + " --udp-timeout counts as lost (and frees its pipeline slot); duplicates, late echoes and datagrams"
                    + " from other sources are counted. The server limits UDP per source (100/s) by default:"
                    + " for a throughput run start it with --udp --udp-source-rate 0 --udp-global-rate 0.",
            "Exit status: 0 all verified; 1 mismatches, connect errors, resets, early EOFs, silent connections"
                    + " (connections owed an echo that got none during the run) or, with --udp, loss above --max-loss;"
                    + " 2 bad options or unreachable server."},
        footer = {"", "Example: coecho bench 127.0.0.1 8080 -c 1000 -d 30s -s 4KiB --json",
            "         coecho bench 127.0.0.1 8080 --udp -c 16 -P 8 -s 512 --max-loss 0.1",
            "", "Every option can also be set in the environment as COECHO_BENCH_<OPTION> (e.g. COECHO_BENCH_CONNECTIONS=1000,"
                    + " COECHO_BENCH_DURATION=30s); the command line wins. COECHO_<OPTION> is the server's, not bench's."})
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "HOST", description = "Server host (or --host). Default: 127.0.0.1.")
    String hostArg;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PORT", description = "Server port (or --port). Default: 8080.")
    Integer portArg;

    @Option(names = "--host", paramLabel = "HOST", description = "Server host. Default: 127.0.0.1.")
    String hostOption;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT", description = "Server port. Default: 8080.")
    Integer portOption;

    @Option(names = {"-c", "--connections"}, paramLabel = "N", defaultValue = "100", description = "Connections, all busy for the whole run. Default: ${DEFAULT-VALUE}.")
    int connections;

    @Option(names = {"-d", "--duration"}, paramLabel = "TIME", defaultValue = "10s", converter = DurationOption.class,
            description = "Measured window (e.g. 500ms, 30s, 5m). Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = {"-w", "--warmup"}, paramLabel = "TIME", defaultValue = "2s", converter = DurationOption.class,
            description = "Traffic before the window, not measured (0: none). Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(names = {"-s", "--size"}, paramLabel = "BYTES", defaultValue = "32", converter = SizeOption.class,
            description = "Message size, 1 B to 16 MiB (e.g. 32, 4KiB, 1MiB). Default: ${DEFAULT-VALUE} B.")
    long size;

    @Option(names = {"-P", "--pipeline"}, paramLabel = "N", defaultValue = "1", description = "Messages in flight per connection. Default: ${DEFAULT-VALUE}.")
    int pipeline;

    @Option(names = {"-r", "--rate"}, paramLabel = "MSGS_PER_S", description = "Open loop: total messages per second across all connections, sent on schedule"
            + " whatever the server does; latency counts from the intended send time, so stalls are not hidden"
            + " (coordinated omission). Send times are kept to about 1 ms. Default: closed loop (send when an echo frees a slot).")
    Double rate;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Event loops, one thread each. Default: the number of processors.")
    Integer threads;

    @Option(names = "--transport", paramLabel = "NAME", defaultValue = "auto", description = "epoll, io_uring, nio, or auto (epoll on Linux). Default: ${DEFAULT-VALUE}.")
    String transport;

    @Option(names = "--connect-timeout", paramLabel = "TIME", defaultValue = "5s", converter = DurationOption.class,
            description = "Longest wait for one connect. Default: ${DEFAULT-VALUE}.")
    Duration connectTimeout;

    @Option(names = "--udp", description = "UDP echo instead of TCP: each connection is a socket sending datagrams.")
    boolean udp;

    @Option(names = "--udp-timeout", paramLabel = "TIME", defaultValue = "1s", converter = DurationOption.class,
            description = "UDP: a datagram not echoed within this time is lost. Default: ${DEFAULT-VALUE}.")
    Duration udpTimeout;

    @Option(names = "--max-loss", paramLabel = "PERCENT", defaultValue = "1",
            description = "UDP: fail the run when more than this percentage of the measured datagrams is lost"
                    + " (100: report loss only, though a run with no echo at all still fails). Default: ${DEFAULT-VALUE}.")
    double maxLoss;

    @Option(names = "--reconnect", description = "TCP: when the server closes a connection at a message boundary (a draining"
            + " server closes idle connections), open it again and go on, counted as a reconnect; messages sent and not"
            + " yet answered are sent again. A close in the middle of a message, a reset while an echo is owed, a"
            + " mismatch or a reconnect that fails stay errors.")
    boolean reconnect;

    @Option(names = "--json", description = "Print one JSON object on stdout instead of the table (no progress line).")
    boolean json;

    @Option(names = "--log-level", paramLabel = "LEVEL", defaultValue = "warn", description = "error, warn, info, debug or trace. Default: ${DEFAULT-VALUE}.")
    String logLevel;

    @Override
    public Integer call() throws Exception {
        LoadConfig config = config();
        Logging.configure(logLevel, null);
        // Ctrl-C (or SIGTERM) ends the measured window early and still reports it; a second one exits.
        CompletableFuture<Void> stop = new CompletableFuture<>();
        Report report;
        try (Signals signals = Signals.onTerminate(signal -> stop.complete(null), signal -> Runtime.getRuntime().halt(130))) {
            report = LoadGenerator.run(config, json ? null : ProgressLine.forTerminal(), stop);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (json) {
            out.println(report.toJson());
        } else if (report.reachable()) {
            out.print(report.toTable());
        }
        out.flush();
        if (!report.reachable()) {
            err.println("coecho: cannot connect to " + target(config) + ": "
                    + (report.details().isEmpty() ? "no connection opened" : report.details().getFirst().replaceFirst("^connect: ", "")));
            return Main.USAGE;
        }
        if (!report.ok()) {
            err.println("coecho: " + target(config) + " failed the run: " + report.failureSummary());
            return 1;
        }
        return 0;
    }

    private LoadConfig config() {
        CommandLine cl = spec.commandLine();
        if (hostArg != null && hostOption != null) {
            throw new CommandLine.ParameterException(cl, "give the host once: as HOST or as --host");
        }
        if (portArg != null && portOption != null) {
            throw new CommandLine.ParameterException(cl, "give the port once: as PORT or as --port");
        }
        String host = hostArg != null ? hostArg : hostOption != null ? hostOption : "127.0.0.1";
        int port = portArg != null ? portArg : portOption != null ? portOption : 8080;
        if (port < 1 || port > 65535) {
            throw new CommandLine.ParameterException(cl, "port must be between 1 and 65535, got " + port);
        }
        if (size < 1 || size > LoadConfig.MAX_SIZE) {
            throw new CommandLine.ParameterException(cl, "--size must be between 1 B and 16 MiB, got " + size + " B");
        }
        if (udp && size > LoadConfig.MAX_DATAGRAM) {
            throw new CommandLine.ParameterException(cl, "--size must be at most " + LoadConfig.MAX_DATAGRAM
                    + " B with --udp (the largest IPv4 datagram), got " + size + " B");
        }
        if (rate != null && !(rate > 0)) {
            throw new CommandLine.ParameterException(cl, "--rate must be a positive number of messages per second, got " + rate);
        }
        InetAddress addr;
        try {
            addr = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new CommandLine.ParameterException(cl, "unknown host '" + host + "'");
        }
        TransportChoice choice;
        try {
            choice = TransportChoice.parse(transport);
            choice.open();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        int loops = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        try {
            return LoadConfig.builder(new InetSocketAddress(addr, port)).connections(connections).duration(duration)
                    .warmup(warmup).size((int) size).pipeline(pipeline).rate(rate == null ? 0 : rate).threads(loops)
                    .transport(choice).connectTimeout(connectTimeout).udp(udp).udpTimeout(udpTimeout).maxLoss(maxLoss)
                    .reconnect(reconnect)
                    .build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
    }

    private static String target(LoadConfig c) {
        String h = c.target().getHostString();
        return (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + c.target().getPort();
    }
}
