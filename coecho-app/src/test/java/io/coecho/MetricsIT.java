package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.Engine;
import io.coecho.server.admin.AdminPorts;
import io.coecho.server.admin.Readiness;
import io.coecho.server.udp.UdpConfig;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an operator scrapes and reads: the Prometheus endpoint counts what clients did, next to the
 * JVM's and the process's standard families, in either text format; --stats-interval logs a summary
 * line.
 */
class MetricsIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void prometheusEndpointCountsConnectionsAndBytes(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target);
                AdminPorts metrics = AdminPorts.open(new java.net.InetSocketAddress("127.0.0.1", 0), null, new Readiness())) {
            metrics.serve(server.server());
            byte[] payload = Traffic.payload(new Random(3), 100_000);
            for (int i = 0; i < 3; i++) {
                try (Socket c = server.connect()) {
                    Traffic.echo(c, payload, "client " + i);
                }
            }
            server.awaitStats("three closed", s -> s.closed() == 3);
            String body = Scrape.metrics(metrics.httpAddress());
            assertEquals(3, Scrape.sum(body, "coecho_connections_accepted_total"), target + ":\n" + body);
            assertEquals(3, Scrape.sum(body, "coecho_connections_closed_total"), target + ":\n" + body);
            assertEquals(0, Scrape.sum(body, "coecho_connections_active"), target + ":\n" + body);
            assertEquals(3L * payload.length, Scrape.sum(body, "coecho_received_bytes_total"), target + ":\n" + body);
            assertEquals(3L * payload.length, Scrape.sum(body, "coecho_sent_bytes_total"), target + ":\n" + body);
            assertTrue(body.contains("# TYPE coecho_connections_active gauge"), body);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selectedWithUdp")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void udpDatagramsAreCountedByOutcome(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, b -> b.udp(UdpConfig.builder().enabled(true).build()));
                AdminPorts metrics = AdminPorts.open(new InetSocketAddress("127.0.0.1", 0), null, new Readiness());
                DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            metrics.serve(server.server());
            assertEquals(0, Scrape.sum(Scrape.metrics(metrics.httpAddress()), "coecho_udp_datagrams_received_total"));
            client.setSoTimeout((int) WAIT.toMillis());
            byte[] payload = Traffic.payload(new Random(5), 300);
            for (int i = 0; i < 3; i++) {
                client.send(new DatagramPacket(payload, payload.length, server.address()));
                DatagramPacket echo = new DatagramPacket(new byte[1000], 1000);
                client.receive(echo);
                assertEquals(payload.length, echo.getLength(), target.label());
            }
            String body = Scrape.metrics(metrics.httpAddress());
            assertEquals(3, Scrape.sum(body, "coecho_udp_datagrams_received_total"), target + ":\n" + body);
            assertEquals(3, Scrape.sum(body, "coecho_udp_datagrams_echoed_total"), target + ":\n" + body);
            assertEquals(900, Scrape.sum(body, "coecho_udp_received_bytes_total"), target + ":\n" + body);
            assertEquals(900, Scrape.sum(body, "coecho_udp_sent_bytes_total"), target + ":\n" + body);
            assertEquals(0, Scrape.sum(body, "coecho_udp_datagrams_dropped_total"), target + ":\n" + body);
            for (String reason : List.of("reflector_port", "privileged_port", "bad_address", "source_rate", "global_rate",
                    "oversize", "send_failed")) {
                assertTrue(body.contains("coecho_udp_datagrams_dropped_total{reason=\"" + reason + "\"}"), "every reason, zeros too: " + body);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theProcessPageHasTheJvmFamiliesAndCountsTraffic(ServerTarget target) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--threads", "2", "--admin", "127.0.0.1:0"));
        try (ServerProcess p = ServerProcess.start(0, args)) {
            InetSocketAddress admin = p.admin(WAIT);
            MetricsPage idle = MetricsPage.parse(Scrape.metrics(admin));
            Map<String, String> standard = Map.of("jvm_memory_used_bytes", "gauge", "jvm_gc_collection_seconds", "summary",
                    "jvm_threads_current", "gauge", "jvm_classes_currently_loaded", "gauge",
                    "process_cpu_seconds_total", "counter", "process_open_fds", "gauge",
                    "process_resident_memory_bytes", "gauge", "process_start_time_seconds", "gauge");
            standard.forEach((family, type) -> assertEquals(type, idle.types().get(family), target + ": family " + family));
            assertTrue(idle.sum("process_open_fds") > 0, target + ": open fds");
            assertTrue(idle.sum("jvm_threads_current") > 0, target + ": threads");
            assertTrue(idle.sum("jvm_memory_used_bytes") > 0, target + ": heap and non-heap used");
            assertEquals("counter", idle.types().get("coecho_connections_accepted_total"), target.label());
            assertEquals("gauge", idle.types().get("coecho_connections_active"), target.label());
            int loops = target.engine() == Engine.COROUTINES ? 2 : 1;
            assertEquals(loops, idle.samples("coecho_connections_accepted_total").size(), target + ": one series per loop");
            assertTrue(idle.samples("coecho_connections_accepted_total").stream().allMatch(s -> s.labels().containsKey("loop")), target.label());
            assertEquals(0, idle.sum("coecho_connections_accepted_total"), target.label());

            byte[] payload = Traffic.payload(new Random(11), 10_000);
            for (int i = 0; i < 2; i++) {
                try (Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
                    c.setSoTimeout(20_000);
                    Traffic.echo(c, payload, target + ": client " + i);
                }
            }
            p.awaitMetric("coecho_connections_closed_total", n -> n == 2, WAIT);
            MetricsPage busy = MetricsPage.parse(Scrape.metrics(admin));
            assertEquals(2, busy.sum("coecho_connections_accepted_total"), target.label());
            assertEquals(0, busy.sum("coecho_connections_active"), target.label());
            assertEquals(2.0 * payload.length, busy.sum("coecho_received_bytes_total"), target.label());
            assertEquals(2.0 * payload.length, busy.sum("coecho_sent_bytes_total"), target.label());

            // OpenMetrics when the scraper asks for it, as Prometheus does by default.
            HttpResponse<String> om = Scrape.get(admin, "/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8");
            assertEquals(200, om.statusCode(), target.label());
            assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"), target
                    + ": " + om.headers().map());
            assertTrue(om.body().endsWith("# EOF\n"), target + ": OpenMetrics ends with # EOF");
            MetricsPage open = MetricsPage.parse(om.body());
            assertEquals("counter", open.types().get("coecho_connections_accepted"), target + ": OpenMetrics family name");
            assertEquals(2, open.sum("coecho_connections_accepted_total"), target.label());
            assertEquals("counter", open.types().get("process_cpu_seconds"), target.label());
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void statsIntervalLogsASummaryLine(ServerTarget target) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--stats-interval", "200ms"));
        try (ServerProcess p = ServerProcess.start(0, args);
                Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
            c.setSoTimeout(20_000);
            Traffic.echo(c, "counted\n".getBytes(StandardCharsets.US_ASCII), target + ": echo");
            String line = p.awaitLine("connections active=1", Duration.ofSeconds(20));
            assertTrue(line.contains("MiB/s"), line);
        }
    }
}
