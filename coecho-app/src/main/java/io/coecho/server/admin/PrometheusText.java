package io.coecho.server.admin;

import io.coecho.runtime.reactor.LoopStats;
import io.coecho.server.Server;
import io.coecho.server.ServerStats;
import io.coecho.server.proxy.ProxyRejection;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Renders a server's counters in the Prometheus text exposition format, one series per event loop
 * (label {@code loop}); totals are a {@code sum()} away.
 *
 * <p>Stateless; any thread.
 */
final class PrometheusText {
    private PrometheusText() {}

    static String render(Server server) {
        List<ServerStats> loops = server.statsByLoop();
        StringBuilder out = new StringBuilder(4096);
        gauge(out, "coecho_connections_active", "Connections open now.", loops, ServerStats::active);
        counter(out, "coecho_connections_accepted_total", "Connections accepted.", loops, ServerStats::accepted);
        counter(out, "coecho_connections_closed_total", "Connections closed.", loops, ServerStats::closed);
        counter(out, "coecho_connections_admission_waits_total",
                "Times accepting paused at --max-connections (clients wait in the backlog).", loops,
                ServerStats::admissionWaits);
        counter(out, "coecho_accept_errors_total", "accept() failures such as EMFILE.", loops, ServerStats::acceptErrors);
        counter(out, "coecho_received_bytes_total", "Bytes read from clients.", loops, ServerStats::bytesIn);
        counter(out, "coecho_sent_bytes_total", "Bytes echoed to clients.", loops, ServerStats::bytesOut);
        counter(out, "coecho_write_waits_total", "Echo writes that had to wait for the peer to read.", loops,
                ServerStats::writeWaits);
        gauge(out, "coecho_writes_waiting", "Echo writes waiting for the peer to read now (slow readers).", loops,
                ServerStats::writesWaiting);
        counter(out, "coecho_idle_timeouts_total", "Connections closed for inactivity.", loops, ServerStats::idleTimeouts);
        counter(out, "coecho_write_timeouts_total", "Connections closed because the peer stopped reading.", loops,
                ServerStats::writeTimeouts);
        counter(out, "coecho_connections_source_limited_total",
                "Connections closed at once: their source had --max-connections-per-source open.", loops,
                ServerStats::sourceLimited);
        header(out, "coecho_proxy_header_rejected_total", "counter",
                "Connections closed before any echo under --proxy-protocol, by reason.");
        for (int i = 0; i < loops.size(); i++) {
            for (ProxyRejection r : ProxyRejection.values()) {
                out.append("coecho_proxy_header_rejected_total{loop=\"").append(i).append("\",reason=\"")
                        .append(r.label()).append("\"} ").append(loops.get(i).proxyRejected().count(r)).append('\n');
            }
        }
        List<LoopStats> work = server.loopStats();
        if (!work.isEmpty()) {
            header(out, "coecho_loop_busy_seconds_total", "counter", "Time each event loop spent working, not waiting.");
            for (int i = 0; i < work.size(); i++) {
                out.append("coecho_loop_busy_seconds_total{loop=\"").append(i).append("\"} ")
                        .append(work.get(i).busyNanos() / 1e9).append('\n');
            }
            header(out, "coecho_loop_turns_total", "counter", "Event loop iterations.");
            for (int i = 0; i < work.size(); i++) {
                out.append("coecho_loop_turns_total{loop=\"").append(i).append("\"} ")
                        .append(work.get(i).turns()).append('\n');
            }
        }
        return out.toString();
    }

    private static void gauge(StringBuilder out, String name, String help, List<ServerStats> loops,
            ToLongFunction<ServerStats> f) {
        series(out, name, "gauge", help, loops, f);
    }

    private static void counter(StringBuilder out, String name, String help, List<ServerStats> loops,
            ToLongFunction<ServerStats> f) {
        series(out, name, "counter", help, loops, f);
    }

    private static void series(StringBuilder out, String name, String type, String help, List<ServerStats> loops,
            ToLongFunction<ServerStats> f) {
        header(out, name, type, help);
        for (int i = 0; i < loops.size(); i++) {
            out.append(name).append("{loop=\"").append(i).append("\"} ").append(f.applyAsLong(loops.get(i))).append('\n');
        }
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }
}
