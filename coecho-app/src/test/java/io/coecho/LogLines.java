package io.coecho;

import io.coecho.runtime.LogCapture;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Waits for what a server logs, as tests wait for its counters: polling the captured lines with a
 * deadline, never sleeping for a guessed time.
 *
 * <p>Stateless; any thread.
 */
public final class LogLines {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private LogLines() {}

    /**
     * The first line at index from or later (see {@link LogCapture#lines()}) in which pattern is
     * found; fails the test if none comes within the deadline.
     */
    public static String await(LogCapture log, int from, Pattern pattern) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            List<String> lines = log.lines();
            for (int i = from; i < lines.size(); i++) {
                if (pattern.matcher(lines.get(i)).find()) {
                    return lines.get(i);
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("never logged /" + pattern + "/; lines from " + from + ": "
                        + lines.subList(Math.min(from, lines.size()), lines.size()));
            }
            Thread.sleep(2); // polling a condition with a deadline, not waiting for a guessed time
        }
    }

    /** A pattern for a host as the logs write it, before its port: {@code 127.0.0.1}, maybe after a slash. */
    public static String host(String host) {
        return "/?" + Pattern.quote(host.indexOf(':') >= 0 ? "[" + host + "]" : host);
    }

    /** A pattern for an address as the logs write it: {@code 192.0.2.1:56324}, maybe after a slash. */
    public static String address(String host, int port) {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return "/?" + Pattern.quote(h + ":" + port);
    }
}
