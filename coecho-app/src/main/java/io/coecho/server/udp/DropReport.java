package io.coecho.server.udp;

import io.coecho.runtime.reactor.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Summarises dropped UDP datagrams in the log, at most once per interval, for the whole server: a
 * flood of spoofed datagrams must not become a flood of log lines. The first drop after a quiet
 * interval is reported on the next turn of its loop; the drops that follow are gathered and reported
 * together when the interval is over.
 *
 * <p>Thread-safe: any loop may call {@link #dropped}; one flag lets one of them schedule the
 * report on its own timer queue. The report reads every service's counters (plain fields: a log line
 * may miss the last few drops, which the next one then counts).
 */
final class DropReport {
    private static final System.Logger LOG = System.getLogger(UdpEchoService.class.getName());

    private final long intervalNanos;
    private final List<UdpEchoService> services = new ArrayList<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Written by whoever holds {@link #scheduled}; the flag's CAS orders the holders. */
    private long lastReport;
    /** Start of the period the next report covers: the previous report, or the start-up. */
    private long since;
    private long[] reported = new long[DropReason.values().length];

    DropReport(Duration interval) {
        this.intervalNanos = interval.toNanos();
        this.since = System.nanoTime();
        this.lastReport = since - intervalNanos;
    }

    /** Adds a service whose drops are reported. Before the loops start. */
    void add(UdpEchoService s) {
        services.add(s);
    }

    /** A drop happened on loop: make sure a report will follow. Loop thread of loop; cheap when one is due. */
    void dropped(EventLoop loop) {
        if (scheduled.get() || !scheduled.compareAndSet(false, true)) {
            return;
        }
        long delay = Math.max(0, lastReport + intervalNanos - System.nanoTime());
        loop.schedule(Duration.ofNanos(delay), this::flush);
    }

    private void flush() {
        long[] now = totals();
        StringJoiner parts = new StringJoiner(", ");
        long sum = 0;
        for (DropReason r : DropReason.values()) {
            long d = now[r.ordinal()] - reported[r.ordinal()];
            if (d > 0) {
                parts.add(d + " " + r.label());
                sum += d;
            }
        }
        long t = System.nanoTime();
        if (sum > 0) {
            LOG.log(System.Logger.Level.INFO, "udp: {0} datagram{1} not answered in the last {2} s: {3}", sum,
                    sum == 1 ? "" : "s", Math.max(1, (t - since) / 1_000_000_000L), parts);
        }
        reported = now;
        lastReport = t;
        since = t;
        scheduled.set(false);
    }

    long[] totals() {
        long[] sum = new long[DropReason.values().length];
        for (UdpEchoService s : services) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += s.dropped[i];
            }
        }
        return sum;
    }
}
