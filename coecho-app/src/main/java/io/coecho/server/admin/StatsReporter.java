package io.coecho.server.admin;

import io.coecho.runtime.reactor.LoopStats;
import io.coecho.server.Server;
import io.coecho.server.ServerStats;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Logs one summary line per interval ({@code --stats-interval}): connections, traffic rates,
 * timeouts, and how busy the loops were. Runs on a daemon thread of its own, never on a loop.
 *
 * <p>Lifecycle: {@link #start} → {@link #close()}.
 */
public final class StatsReporter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(StatsReporter.class.getName());

    private final Server server;
    private final ScheduledExecutorService timer;
    private ServerStats last = ServerStats.ZERO;
    private long lastBusy;
    private long lastAt = System.nanoTime();

    private StatsReporter(Server server) {
        this.server = server;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coecho-stats");
            t.setDaemon(true);
            return t;
        });
    }

    public static StatsReporter start(Server server, Duration interval) {
        StatsReporter r = new StatsReporter(server);
        long ms = interval.toMillis();
        r.timer.scheduleAtFixedRate(r::report, ms, ms, TimeUnit.MILLISECONDS);
        return r;
    }

    private void report() {
        ServerStats s = server.stats();
        long now = System.nanoTime();
        double secs = Math.max((now - lastAt) / 1e9, 1e-9);
        List<LoopStats> loops = server.loopStats();
        long busy = loops.stream().mapToLong(LoopStats::busyNanos).sum();
        String util = loops.isEmpty() ? "n/a"
                : String.format(Locale.ROOT, "%.0f%%", 100.0 * (busy - lastBusy) / 1e9 / secs / loops.size());
        LOG.log(System.Logger.Level.INFO, String.format(Locale.ROOT,
                "connections active=%d accepted=+%d closed=+%d | in %.2f MiB/s out %.2f MiB/s | timeouts idle=+%d write=+%d | loops busy %s",
                s.active(), s.accepted() - last.accepted(), s.closed() - last.closed(),
                (s.bytesIn() - last.bytesIn()) / secs / (1 << 20), (s.bytesOut() - last.bytesOut()) / secs / (1 << 20),
                s.idleTimeouts() - last.idleTimeouts(), s.writeTimeouts() - last.writeTimeouts(), util));
        last = s;
        lastBusy = busy;
        lastAt = now;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
