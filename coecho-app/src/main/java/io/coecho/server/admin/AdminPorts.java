package io.coecho.server.admin;

import io.coecho.server.Server;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * What an operator's tools talk to, besides the echo port: the HTTP endpoint (health, readiness,
 * metrics) and HAProxy's agent check, each when configured. Opened before the echo listeners, so a
 * probe sees "starting" and then "ready", and a bad address fails before the echo port is taken;
 * the server's metrics join the JVM's once the server runs ({@link #serve}).
 *
 * <p>Thread-safe. Lifecycle: {@link #open} → {@link #serve} → {@link #close()}.
 */
public final class AdminPorts implements AutoCloseable {
    private final PrometheusRegistry registry;
    private final AdminEndpoint http;
    private final AgentCheck agent;

    private AdminPorts(PrometheusRegistry registry, AdminEndpoint http, AgentCheck agent) {
        this.registry = registry;
        this.http = http;
        this.agent = agent;
    }

    /** Opens the HTTP endpoint at http and the agent check at agent, each unless null. */
    public static AdminPorts open(InetSocketAddress http, InetSocketAddress agent, Readiness readiness)
            throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        AdminEndpoint endpoint = null;
        if (http != null) {
            JvmMetrics.builder().register(registry); // jvm_* and process_*: heap, GC, threads, fds, CPU
            endpoint = AdminEndpoint.start(http, readiness, registry);
        }
        try {
            return new AdminPorts(registry, endpoint, agent == null ? null : AgentCheck.start(agent, readiness));
        } catch (IOException | RuntimeException e) {
            if (endpoint != null) {
                endpoint.close();
            }
            throw e;
        }
    }

    /** Adds server's counters to the metrics. */
    public void serve(Server server) {
        registry.register(new ServerMetrics(server));
    }

    /** Where the HTTP endpoint listens, or null when off. */
    public InetSocketAddress httpAddress() {
        return http == null ? null : http.address();
    }

    /** Where the agent check listens, or null when off. */
    public InetSocketAddress agentAddress() {
        return agent == null ? null : agent.address();
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
        if (agent != null) {
            agent.close();
        }
    }
}
