package io.coecho.loadgen;

import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;

/**
 * {@code coecho bench}'s engine: the client side of our own runtime. Connections are dealt
 * round-robin to event loops (one thread each) and never move; every phase is bounded in time:
 *
 * <pre>
 *   connect ──▶ warmup ──▶ measured window ──▶ grace ──▶ report
 *   (≤ 2 × connect timeout, 256 connects in flight)    (stop sending; wait ≤ 1 s for echoes in flight)
 * </pre>
 *
 * <p>UDP runs bind sockets instead of connecting, and their grace lasts at least the loss timeout,
 * so that every datagram of the window ends received or lost.
 *
 * <p>Runs on the calling thread, which only coordinates: it starts the loops, hands them the
 * phase deadlines, prints the progress line, and merges the loops' histograms and counters once
 * they have ended.
 */
public final class LoadGenerator {
    /** How long echoes in flight at the end of the window may take before their connection is cut. */
    static final Duration GRACE = Duration.ofSeconds(1);
    /** Bytes read per call (the loop's scratch buffer). */
    private static final int READ_BUFFER = 64 * 1024;
    /** Allowance for the loops to report back after a deadline they enforce themselves. */
    private static final long SLACK_NANOS = Duration.ofSeconds(5).toNanos();

    private final LoadConfig config;
    private final ProgressLine progress;
    private final CompletableFuture<Void> stopEarly;
    /** The measured window as run (nanoseconds): the configured duration unless stopped early. */
    private volatile long windowNanos;
    private final List<ClientLoop> shares = new ArrayList<>();

    private LoadGenerator(LoadConfig config, ProgressLine progress, CompletableFuture<Void> stopEarly) {
        this.config = config;
        this.progress = progress;
        this.stopEarly = stopEarly;
        this.windowNanos = config.duration().toNanos();
    }

    /**
     * Runs the load described by config and returns its report; progress, if not null, is updated
     * once a second. Throws IllegalArgumentException if the transport is not available here.
     */
    public static Report run(LoadConfig config, ProgressLine progress) throws InterruptedException {
        return run(config, progress, new CompletableFuture<>());
    }

    /**
     * As {@link #run(LoadConfig, ProgressLine)}; completing stopEarly (from any thread) ends the
     * measured window at that moment, as Ctrl-C does for {@code coecho bench}: sending stops, echoes
     * in flight get the usual grace, and the report covers the window as it ran.
     */
    public static Report run(LoadConfig config, ProgressLine progress, CompletableFuture<Void> stopEarly)
            throws InterruptedException {
        return new LoadGenerator(config, progress, stopEarly).run();
    }

    private Report run() throws InterruptedException {
        Transport transport = config.transport().open();
        int loops = Math.min(config.threads(), config.connections());
        for (int i = 0; i < loops; i++) {
            EventLoop loop = transport.newLoop("bench-loop-" + i, READ_BUFFER);
            shares.add(new ClientLoop(loop, transport, config));
        }
        for (int c = 0; c < config.connections(); c++) {
            shares.get(c % loops).add(c);
        }
        try {
            shares.forEach(s -> s.loop.start());
            connect(loops);
            if (connected() > 0) {
                traffic();
            }
        } finally {
            shares.forEach(s -> s.loop.stop());
            for (ClientLoop s : shares) {
                s.loop.awaitTermination(Duration.ofSeconds(5));
            }
            if (progress != null) {
                progress.clear();
            }
        }
        return report();
    }

    private void connect(int loops) throws InterruptedException {
        long begin = System.nanoTime();
        long deadline = begin + 2 * config.connectTimeout().toNanos();
        int perLoop = Math.max(1, LoadConfig.CONNECTS_IN_FLIGHT / loops);
        for (ClientLoop s : shares) {
            s.loop.execute(() -> s.connectAll(perLoop, deadline));
        }
        awaitAll(shares.stream().map(s -> s.connectDone).toList(), "connecting", begin, deadline + SLACK_NANOS);
    }

    private void traffic() throws InterruptedException {
        long start = System.nanoTime();
        long warmupEnd = start + config.warmup().toNanos();
        long end = warmupEnd + config.duration().toNanos();
        long graceEnd = end + grace().toNanos();
        for (ClientLoop s : shares) {
            s.loop.execute(() -> s.run(start, warmupEnd, end, graceEnd));
        }
        // Every loop ends its window at the same instant; a loop's task queue keeps the order, so
        // the stop always finds its run begun.
        stopEarly.thenRun(() -> {
            long now = System.nanoTime();
            if (now - end < 0) {
                windowNanos = Math.max(0, now - warmupEnd);
                for (ClientLoop s : shares) {
                    s.loop.tryExecute(() -> s.endEarly(now));
                }
            }
        });
        awaitAll(shares.stream().map(s -> s.finished).toList(), null, start, graceEnd + SLACK_NANOS);
    }

    private Duration grace() {
        return config.udp() && config.udpTimeout().compareTo(GRACE) > 0 ? config.udpTimeout() : GRACE;
    }

    /** Waits for every future, updating the progress line each second, until deadline (nanoTime). */
    private void awaitAll(List<CompletableFuture<Void>> futures, String phase, long since, long deadline)
            throws InterruptedException {
        CompletableFuture<Void> all = CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
        long warmupNanos = config.warmup().toNanos();
        long windowNanos = config.duration().toNanos();
        while (true) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
                throw new IllegalStateException("the load generator's loops did not finish in time");
            }
            try {
                all.get(Math.min(1_000_000_000L, deadline - now), TimeUnit.NANOSECONDS);
                return;
            } catch (TimeoutException e) {
                if (progress != null) {
                    long t = System.nanoTime();
                    String p = phase != null ? phase
                            : t - since < warmupNanos ? "warmup"
                            : t - since < warmupNanos + windowNanos ? "measuring" : "finishing";
                    progress.update(p, t, since, sum(s -> s.messagesAll), open(phase != null), config.connections(),
                            sum(s -> failureCount(s)));
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException("a load loop failed", e.getCause());
            }
        }
    }

    private int open(boolean connecting) {
        int n = 0;
        for (ClientLoop s : shares) {
            n += connecting ? s.connected : s.live;
        }
        return n;
    }

    private static long failureCount(ClientLoop s) {
        long n = 0;
        for (long f : s.failures) {
            n += f;
        }
        return n;
    }

    private long sum(java.util.function.ToLongFunction<ClientLoop> f) {
        long n = 0;
        for (ClientLoop s : shares) {
            n += f.applyAsLong(s);
        }
        return n;
    }

    private int connected() {
        return (int) sum(s -> s.connected);
    }

    /** Merges the loops' results; called once the loops have terminated (their writes are visible). */
    private Report report() {
        Histogram merged = new Histogram(ClientLoop.MAX_LATENCY_NANOS, 3);
        long[] failures = new long[Failure.values().length];
        List<String> details = new ArrayList<>();
        long[] datagrams = new long[UdpCount.values().length];
        long messages = 0;
        long reconnects = 0;
        for (ClientLoop s : shares) {
            merged.add(s.latency);
            messages += s.messages;
            reconnects += s.reconnects;
            for (int i = 0; i < datagrams.length; i++) {
                datagrams[i] += s.datagrams[i];
            }
            for (int i = 0; i < failures.length; i++) {
                failures[i] += s.failures[i];
            }
        }
        for (Failure f : Failure.values()) {
            for (ClientLoop s : shares) {
                String d = s.firstDetail[f.ordinal()];
                if (d != null) {
                    details.add(f.label() + ": " + d);
                    break;
                }
            }
        }
        return Report.of(config, windowNanos, connected(), reconnects, messages, merged, failures, details,
                config.udp() ? datagrams : null);
    }
}
