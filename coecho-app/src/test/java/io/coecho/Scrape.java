package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What Prometheus and a balancer's probes do with the server's admin endpoint, for tests: fetch
 * {@code /metrics} and add up a metric's samples over its labels; ask {@code /readyz} or
 * {@code /livez} for their status, and the agent port for its word.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Scrape {
    private Scrape() {}

    /** The body of GET http://address/metrics; asserts a 200 in the Prometheus text format. */
    public static String metrics(InetSocketAddress address) throws Exception {
        HttpResponse<String> r = get(address, "/metrics", null);
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        return r.body();
    }

    /** GET http://address/path, with an Accept header unless null. */
    public static HttpResponse<String> get(InetSocketAddress address, String path, String accept) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
                    .timeout(Duration.ofSeconds(10));
            if (accept != null) {
                b.header("Accept", accept);
            }
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** The status of GET http://address/path. */
    public static int status(InetSocketAddress address, String path) throws Exception {
        return get(address, path, null).statusCode();
    }

    /** What HAProxy's agent check reads: the line the agent port answers before it closes. */
    public static String agent(InetSocketAddress address) throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(address, 10_000);
            s.setSoTimeout(10_000);
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /**
     * The sum of a metric's samples over its labels (what PromQL's sum() would give), rounded to a
     * whole number: the client writes every value as a floating-point number ({@code 3.0}).
     */
    public static long sum(String body, String metric) {
        Matcher m = Pattern.compile("(?m)^" + metric + "(?:\\{[^}]*\\})? (\\S+)$").matcher(body);
        double total = 0;
        boolean found = false;
        while (m.find()) {
            found = true;
            total += Double.parseDouble(m.group(1));
        }
        assertTrue(found, "no samples of " + metric + " in:\n" + body);
        return Math.round(total);
    }
}
