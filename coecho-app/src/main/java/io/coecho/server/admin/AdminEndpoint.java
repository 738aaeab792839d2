package io.coecho.server.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The operator's HTTP port ({@code --admin}, formerly {@code --metrics}):
 * <ul>
 *   <li>{@code GET /livez}: 200 while the process serves (it answers at all);
 *   <li>{@code GET /readyz}: 200 once every listener is open, 503 before that and from the first
 *       SIGTERM on (see {@link Readiness});
 *   <li>{@code GET /metrics}: the registry through the Prometheus client's own handler, which
 *       negotiates the format (Prometheus text, or OpenMetrics when the scraper asks for it) and
 *       gzip.
 * </ul>
 * The JDK's HTTP server with the client's {@link MetricsHandler} mounted, rather than the client's
 * {@code HTTPServer}: that one has no way to add exact paths of our own, and this way the bind error
 * and the one thread are ours to choose. That thread is a daemon platform thread of its own, so a
 * probe or a scrape never runs on an event loop.
 *
 * <p>Thread-safe. Lifecycle: {@link #start} → {@link #close()}.
 */
public final class AdminEndpoint implements AutoCloseable {
    private final HttpServer http;
    private final ExecutorService executor;

    private AdminEndpoint(HttpServer http, ExecutorService executor) {
        this.http = http;
        this.executor = executor;
    }

    /** Binds address and answers until closed. */
    public static AdminEndpoint start(InetSocketAddress address, Readiness readiness, PrometheusRegistry registry)
            throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(address, 16);
        } catch (BindException e) {
            throw new BindException("cannot bind admin address " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + e.getMessage());
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "coecho-admin");
            t.setDaemon(true);
            return t;
        });
        http.setExecutor(executor);
        http.createContext("/livez", exact("/livez", e -> text(e, 200, "ok\n")));
        http.createContext("/readyz", exact("/readyz", e -> {
            Readiness.State s = readiness.state();
            text(e, s == Readiness.State.READY ? 200 : 503, s.name().toLowerCase(java.util.Locale.ROOT) + "\n");
        }));
        http.createContext("/metrics", exact("/metrics", new MetricsHandler(registry)));
        http.start();
        return new AdminEndpoint(http, executor);
    }

    /** Where it listens (the real port when bound to port 0). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** A context matches a prefix; these paths are exact, and only GET and HEAD are served. */
    private static HttpHandler exact(String path, HttpHandler handler) {
        return exchange -> {
            try {
                String method = exchange.getRequestMethod();
                if (!exchange.getRequestURI().getPath().equals(path)) {
                    text(exchange, 404, "not found\n");
                } else if (!"GET".equals(method) && !"HEAD".equals(method)) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    text(exchange, 405, "method not allowed\n");
                } else {
                    handler.handle(exchange);
                }
            } finally {
                exchange.close();
            }
        };
    }

    private static void text(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
