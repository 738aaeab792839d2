package io.coecho.loadgen;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The result of a load run: throughput over the measured window, latency percentiles, failures by
 * kind, printed as a table for people or as one JSON object for the benchmark harness (whose field
 * names are a contract: change them only together with bench/).
 *
 * <p>Immutable.
 *
 * @param config what was run
 * @param windowNanos the measured window as it ran: the configured duration, or less if the run was
 *     stopped early (Ctrl-C)
 * @param connected connections that opened
 * @param reconnects connections opened again after the server closed them at a message boundary
 *     (--reconnect)
 * @param messages echoes completed inside the measured window
 * @param p50 latency percentiles and maximum, in microseconds (p50, p90, p99, p99.9, max)
 * @param failures counts indexed by {@link Failure#ordinal()}
 * @param details for each kind of failure that happened, the first instance, in words
 * @param udp UDP runs: datagram counts indexed by {@link UdpCount#ordinal()}; null for TCP
 */
public record Report(LoadConfig config, long windowNanos, int connected, long reconnects, long messages,
        double p50, double p90, double p99, double p999, double max,
        long[] failures, List<String> details, long[] udp) {

    private static final double MIB = 1024.0 * 1024.0;

    public Report {
        failures = failures.clone();
        details = List.copyOf(details);
        udp = udp == null ? null : udp.clone();
    }

    /** Builds a report from the merged histogram (values in nanoseconds). */
    static Report of(LoadConfig config, long windowNanos, int connected, long reconnects, long messages, Histogram h, long[] failures,
            List<String> details, long[] udp) {
        boolean any = h.getTotalCount() > 0;
        return new Report(config, windowNanos, connected, reconnects, messages,
                any ? micros(h.getValueAtPercentile(50)) : 0,
                any ? micros(h.getValueAtPercentile(90)) : 0,
                any ? micros(h.getValueAtPercentile(99)) : 0,
                any ? micros(h.getValueAtPercentile(99.9)) : 0,
                any ? micros(h.getMaxValue()) : 0,
                failures, details, udp);
    }

    private static double micros(long nanos) {
        return nanos / 1000.0;
    }

    @Override
    public long[] failures() {
        return failures.clone();
    }

    public long failures(Failure f) {
        return failures[f.ordinal()];
    }

    @Override
    public long[] udp() {
        return udp == null ? null : udp.clone();
    }

    /** A UDP count; 0 for TCP runs. */
    public long udp(UdpCount c) {
        return udp == null ? 0 : udp[c.ordinal()];
    }

    /** UDP: the percentage of the window's datagrams that got no echo within the loss timeout. */
    public double lossPercent() {
        long sent = udp(UdpCount.SENT);
        return sent == 0 ? 0 : 100.0 * udp(UdpCount.LOST) / sent;
    }

    /** UDP: more was lost than --max-loss allows, or not a single datagram came back. */
    public boolean lossFails() {
        return udp != null
                && (lossPercent() > config.maxLoss() || (udp(UdpCount.SENT) > 0 && udp(UdpCount.RECEIVED) == 0));
    }

    /**
     * True when nothing failed: every byte came back right, every connection opened and answered,
     * and (UDP) datagrams came back, no more of them lost than allowed.
     */
    public boolean ok() {
        for (long n : failures) {
            if (n != 0) {
                return false;
            }
        }
        return !lossFails();
    }

    /** False when not a single connection could be opened. */
    public boolean reachable() {
        return connected > 0;
    }

    /** The measured window in seconds, as it ran. */
    public double durationSeconds() {
        return windowNanos / 1e9;
    }

    /** True when the run was stopped before its measured window was over (Ctrl-C). */
    public boolean stoppedEarly() {
        return windowNanos < config.duration().toNanos();
    }

    /** Messages per second over the window; 0 for an empty window (stopped during the warmup). */
    public double messagesPerSecond() {
        return windowNanos > 0 ? messages / durationSeconds() : 0;
    }

    /** Echoed payload (one direction) per second. */
    public double mibPerSecond() {
        return messagesPerSecond() * config.size() / MIB;
    }

    /** "2 mismatch, 1 silent", "12.5% of datagrams lost (more than 1%)", or "none". */
    public String failureSummary() {
        List<String> parts = new ArrayList<>();
        for (Failure f : Failure.values()) {
            if (failures(f) > 0) {
                parts.add(failures(f) + " " + f.label());
            }
        }
        if (lossFails() && udp(UdpCount.RECEIVED) == 0) {
            parts.add("no echo at all" + (parts.isEmpty() ? " (is the server running with --udp?)" : ""));
        } else if (lossFails()) {
            parts.add(String.format(Locale.ROOT, "%.2f%% of datagrams lost (more than %s%%)", lossPercent(),
                    number(config.maxLoss())));
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    /** The single JSON object of --json (no trailing newline); UDP runs add a "udp" object before "ok". */
    public String toJson() {
        InetSocketAddress t = config.target();
        StringBuilder b = new StringBuilder(320);
        b.append("{\"host\":").append(quote(t.getHostString()))
                .append(",\"port\":").append(t.getPort())
                .append(",\"connections\":").append(config.connections())
                .append(",\"reconnects\":").append(reconnects)
                .append(",\"size\":").append(config.size())
                .append(",\"pipeline\":").append(config.pipeline())
                .append(",\"rate\":").append(config.paced() ? number(config.rate()) : "null")
                .append(",\"duration_s\":").append(number(durationSeconds()))
                .append(",\"stopped_early\":").append(stoppedEarly())
                .append(",\"messages\":").append(messages)
                .append(",\"msgs_per_s\":").append(number(messagesPerSecond()))
                .append(",\"mib_per_s\":").append(number(mibPerSecond()))
                .append(",\"latency_us\":{\"p50\":").append(number(p50))
                .append(",\"p90\":").append(number(p90))
                .append(",\"p99\":").append(number(p99))
                .append(",\"p999\":").append(number(p999))
                .append(",\"max\":").append(number(max))
                .append("},\"errors\":{");
        Failure[] all = Failure.values();
        for (int i = 0; i < all.length; i++) {
            b.append(i == 0 ? "" : ",").append('"').append(all[i].label()).append("\":").append(failures(all[i]));
        }
        b.append('}');
        if (udp != null) {
            UdpCount[] counts = UdpCount.values();
            b.append(",\"udp\":{");
            for (int i = 0; i < counts.length; i++) {
                b.append(i == 0 ? "" : ",").append('"').append(counts[i].label()).append("\":").append(udp[i]);
            }
            b.append(",\"loss_pct\":").append(number(lossPercent())).append('}');
        }
        return b.append(",\"ok\":").append(ok()).append('}').toString();
    }

    /** The human-readable final table, lines ending in newlines. */
    public String toTable() {
        InetSocketAddress t = config.target();
        StringBuilder b = new StringBuilder(800);
        line(b, "target", t.getHostString() + ":" + t.getPort());
        line(b, "connections", connected + " of " + config.connections()
                + (udp != null ? " UDP sockets bound" : " opened")
                + (config.reconnect() ? ", " + reconnects + " reopened after the server closed them between messages" : ""));
        line(b, "message", config.size() + (udp != null ? " B datagrams" : " B") + ", pipeline " + config.pipeline()
                + (config.paced() ? ", open loop at " + number(config.rate()) + " msg/s" : ", closed loop"));
        line(b, "duration", number(durationSeconds()) + " s measured" + (stoppedEarly() ? " (stopped early)" : "") + ", after "
                + number(config.warmup().toNanos() / 1e9) + " s warmup");
        line(b, "messages", String.format(Locale.ROOT, "%,d", messages));
        line(b, "throughput", String.format(Locale.ROOT, "%,.0f msg/s, %.2f MiB/s", messagesPerSecond(), mibPerSecond()));
        line(b, "latency (µs)", String.format(Locale.ROOT, "p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f",
                p50, p90, p99, p999, max));
        if (udp != null) {
            line(b, "datagrams", String.format(Locale.ROOT, "%,d sent, %,d received, %,d lost (%.2f%%, max %s%%)",
                    udp(UdpCount.SENT), udp(UdpCount.RECEIVED), udp(UdpCount.LOST), lossPercent(),
                    number(config.maxLoss())));
            line(b, "", String.format(Locale.ROOT, "%,d duplicates, %,d late, %,d from unexpected sources",
                    udp(UdpCount.DUPLICATES), udp(UdpCount.LATE), udp(UdpCount.UNEXPECTED)));
        }
        line(b, "errors", failureSummary());
        for (String d : details) {
            line(b, "", d);
        }
        line(b, "result", !ok() ? "FAILED"
                : udp != null ? "OK: every echoed datagram verified" : "OK: every echoed byte verified");
        return b.toString();
    }

    private static void line(StringBuilder b, String label, String value) {
        b.append(String.format(Locale.ROOT, "  %-13s %s%n", label, value));
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
