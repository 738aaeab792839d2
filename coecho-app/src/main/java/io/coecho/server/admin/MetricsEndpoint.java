package io.coecho.server.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.coecho.server.Server;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves {@code GET /metrics} in the Prometheus text format (off unless {@code --metrics} names an
 * address). Uses the JDK's own HTTP server on one platform thread of its own, so a scrape never runs
 * on an event loop; it reads the loops' plain counters, which may be a moment old.
 *
 * <p>Lifecycle: {@link #start} → {@link #close()}.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer http;
    private final ExecutorService executor;

    private MetricsEndpoint(HttpServer http, ExecutorService executor) {
        this.http = http;
        this.executor = executor;
    }

    /** Binds address and serves server's metrics until closed. */
    public static MetricsEndpoint start(Server server, InetSocketAddress address) throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(address, 16);
        } catch (java.net.BindException e) {
            throw new java.net.BindException("cannot bind metrics address " + address + ": " + e.getMessage());
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "coecho-metrics");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        http.createContext("/metrics", exchange -> respond(exchange, server));
        http.start();
        return new MetricsEndpoint(http, executor);
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    private static void respond(HttpExchange exchange, Server server) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body = PrometheusText.render(server).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
