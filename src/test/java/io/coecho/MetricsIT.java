package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.admin.AdminPorts;
import io.coecho.server.admin.Readiness;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What an operator scrapes and reads: the Prometheus endpoint counts what clients did, and
 * --stats-interval logs a summary line.
 */
class MetricsIT {

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
