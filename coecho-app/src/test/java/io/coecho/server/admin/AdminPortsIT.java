package io.coecho.server.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.Scrape;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The admin ports in-process, without a server: the probes follow {@link Readiness} through its
 * three states, the paths are exact and read-only, and the agent check answers HAProxy's words.
 */
class AdminPortsIT {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void probesAndAgentCheckFollowReadiness() throws Exception {
        Readiness readiness = new Readiness();
        try (AdminPorts ports = AdminPorts.open(ANY_PORT, ANY_PORT, readiness)) {
            InetSocketAddress http = ports.httpAddress();
            InetSocketAddress agent = ports.agentAddress();

            assertEquals(200, Scrape.status(http, "/livez"), "live while starting");
            assertEquals(503, Scrape.status(http, "/readyz"), "not ready while starting");
            assertEquals("starting\n", Scrape.get(http, "/readyz", null).body());
            assertEquals("down\n", Scrape.agent(agent), "agent check while starting");

            readiness.ready();
            assertEquals(200, Scrape.status(http, "/readyz"), "ready");
            assertEquals("ready\n", Scrape.get(http, "/readyz", null).body());
            assertEquals("up ready\n", Scrape.agent(agent), "agent check when ready");

            assertTrue(readiness.drain(), "first drain");
            assertTrue(!readiness.drain(), "drain is for good: the second is not the first");
            readiness.ready();
            assertEquals(503, Scrape.status(http, "/readyz"), "never ready again once draining");
            assertEquals("drain\n", Scrape.agent(agent), "agent check when draining");
            assertEquals(200, Scrape.status(http, "/livez"), "live while draining");
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void pathsAreExactAndReadOnly() throws Exception {
        try (AdminPorts ports = AdminPorts.open(ANY_PORT, null, new Readiness())) {
            InetSocketAddress http = ports.httpAddress();
            assertEquals(null, ports.agentAddress(), "no agent check unless asked for");
            assertEquals(404, Scrape.status(http, "/"));
            assertEquals(404, Scrape.status(http, "/livez/more"));
            assertEquals(404, Scrape.status(http, "/metricsx"));
            assertEquals(200, Scrape.status(http, "/metrics"), "the JVM's metrics before any server");
            try (HttpClient client = HttpClient.newHttpClient()) {
                HttpResponse<String> post = client.send(request(http, "/livez").POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(405, post.statusCode());
                assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
                HttpResponse<String> head = client.send(request(http, "/livez").HEAD().build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, head.statusCode());
                assertEquals("", head.body());
            }
        }
    }

    private static HttpRequest.Builder request(InetSocketAddress at, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + at.getPort() + path)).timeout(Duration.ofSeconds(10));
    }
}
