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
 * What Prometheus does with the server's metrics endpoint, for tests: fetch {@code /metrics} and add
 * up a metric's samples over its labels.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Scrape {
    private Scrape() {}

    /** The body of GET http://address/metrics; asserts a 200 in the text format. */
    public static String metrics(InetSocketAddress address) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + address.getPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            return r.body();
        }
    }

    /** The sum of a metric's samples over its labels (what PromQL's sum() would give). */
    public static long sum(String body, String metric) {
        Matcher m = Pattern.compile("(?m)^" + metric + "\\{[^}]*\\} (\\d+)$").matcher(body);
        long total = 0;
        boolean found = false;
        while (m.find()) {
            found = true;
            total += Long.parseLong(m.group(1));
        }
        assertTrue(found, "no samples of " + metric + " in:\n" + body);
        return total;
    }
}
