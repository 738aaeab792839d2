package io.coecho.server.admin;

import io.coecho.runtime.reactor.LoopStats;
import io.coecho.server.Server;
import io.coecho.server.ServerStats;
import io.coecho.server.proxy.ProxyRejection;
import io.coecho.server.udp.DropReason;
import io.coecho.server.udp.UdpStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * A server's counters as Prometheus metric families, one series per event loop (label {@code loop};
 * totals are a {@code sum()} away). Nothing is counted here: at each scrape it reads the plain
 * per-loop fields the loops write (no atomics on the read path), which may be a moment old.
 *
 * <p>The names are those of the hand-written text format it replaced; the client appends
 * {@code _total} to a counter's samples (and to its family name in the Prometheus text format).
 *
 * <p>Stateless apart from the server it reads; runs on the admin endpoint's thread.
 */
public final class ServerMetrics implements MultiCollector {
    private final Server server;

    public ServerMetrics(Server server) {
        this.server = server;
    }

    @Override
    public MetricSnapshots collect() {
        List<ServerStats> loops = server.statsByLoop();
        List<LoopStats> work = server.loopStats();
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        out.metricSnapshot(gauge("coecho_connections_active", "Connections open now.", loops, ServerStats::active));
        out.metricSnapshot(counter("coecho_connections_accepted", "Connections accepted.", null, loops,
                s -> s.accepted()));
        out.metricSnapshot(counter("coecho_connections_closed", "Connections closed.", null, loops, s -> s.closed()));
        out.metricSnapshot(counter("coecho_connections_admission_waits",
                "Times accepting paused at --max-connections (clients wait in the backlog).", null, loops,
                s -> s.admissionWaits()));
        out.metricSnapshot(counter("coecho_accept_errors", "accept() failures such as EMFILE.", null, loops,
                s -> s.acceptErrors()));
        out.metricSnapshot(counter("coecho_received_bytes", "Bytes read from clients.", Unit.BYTES, loops,
                s -> s.bytesIn()));
        out.metricSnapshot(counter("coecho_sent_bytes", "Bytes echoed to clients.", Unit.BYTES, loops,
                s -> s.bytesOut()));
        out.metricSnapshot(counter("coecho_write_waits", "Echo writes that had to wait for the peer to read.", null,
                loops, s -> s.writeWaits()));
        out.metricSnapshot(gauge("coecho_writes_waiting", "Echo writes waiting for the peer to read now (slow readers).",
                loops, ServerStats::writesWaiting));
        out.metricSnapshot(counter("coecho_idle_timeouts", "Connections closed for inactivity.", null, loops,
                s -> s.idleTimeouts()));
        out.metricSnapshot(counter("coecho_write_timeouts", "Connections closed because the peer stopped reading.",
                null, loops, s -> s.writeTimeouts()));
        out.metricSnapshot(counter("coecho_connections_source_limited",
                "Connections closed at once: their source had --max-connections-per-source open.", null, loops,
                s -> s.sourceLimited()));
        out.metricSnapshot(proxyRejected(loops));
        if (!work.isEmpty()) {
            out.metricSnapshot(counter("coecho_loop_busy_seconds", "Time each event loop spent working, not waiting.",
                    Unit.SECONDS, work, l -> l.busyNanos() / 1e9));
            out.metricSnapshot(counter("coecho_loop_turns", "Event loop iterations.", null, work, l -> l.turns()));
        }
        UdpStats udp = server.udpStats();
        if (udp.sockets() > 0) {
            udp(out, udp);
        }
        return out.build();
    }

    /**
     * --udp: datagrams and bytes in and out, and those not answered by reason (RFC 862 echo with its
     * safeguards). Summed over the loops' sockets, so without the loop label.
     */
    private static void udp(MetricSnapshots.Builder out, UdpStats udp) {
        out.metricSnapshot(total("coecho_udp_datagrams_received", "UDP datagrams received, answered or not.", null,
                udp.received()));
        out.metricSnapshot(total("coecho_udp_datagrams_echoed", "UDP datagrams answered.", null, udp.echoed()));
        out.metricSnapshot(total("coecho_udp_received_bytes", "UDP payload bytes received (an oversize datagram counts"
                + " its full length).", Unit.BYTES, udp.bytesIn()));
        out.metricSnapshot(total("coecho_udp_sent_bytes", "UDP payload bytes sent back.", Unit.BYTES, udp.bytesOut()));
        CounterSnapshot.Builder dropped = CounterSnapshot.builder().name("coecho_udp_datagrams_dropped")
                .help("UDP datagrams not answered, by reason.");
        for (DropReason r : DropReason.values()) {
            dropped.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("reason", r.name().toLowerCase(java.util.Locale.ROOT)))
                    .value(udp.dropped(r)).build());
        }
        out.metricSnapshot(dropped.build());
    }

    private static CounterSnapshot total(String name, String help, Unit unit, long value) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        return b.dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build();
    }

    /** coecho_proxy_header_rejected_total{loop, reason}: every reason, zeros too, so rates need no absent(). */
    private static CounterSnapshot proxyRejected(List<ServerStats> loops) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("coecho_proxy_header_rejected")
                .help("Connections closed before any echo under --proxy-protocol, by reason.");
        for (int i = 0; i < loops.size(); i++) {
            for (ProxyRejection r : ProxyRejection.values()) {
                b.dataPoint(CounterDataPointSnapshot.builder().labels(loop(i).add("reason", r.label()))
                        .value(loops.get(i).proxyRejected().count(r)).build());
            }
        }
        return b.build();
    }

    private static GaugeSnapshot gauge(String name, String help, List<ServerStats> loops, ToLongFunction<ServerStats> f) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        for (int i = 0; i < loops.size(); i++) {
            b.dataPoint(GaugeDataPointSnapshot.builder().labels(loop(i)).value(f.applyAsLong(loops.get(i))).build());
        }
        return b.build();
    }

    private static <T> CounterSnapshot counter(String name, String help, Unit unit, List<T> loops, ToDoubleFunction<T> f) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        for (int i = 0; i < loops.size(); i++) {
            b.dataPoint(CounterDataPointSnapshot.builder().labels(loop(i)).value(f.applyAsDouble(loops.get(i))).build());
        }
        return b.build();
    }

    private static Labels loop(int i) {
        return Labels.of("loop", String.valueOf(i));
    }
}
