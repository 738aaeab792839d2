package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Scale-out behind a real balancer, through {@code bench/scale-out.sh} as an operator runs it: three
 * instances behind Debian's HAProxy (send-proxy-v2: each instance runs --proxy-protocol) in a private
 * network namespace, {@code coecho bench --reconnect} through HAProxy, every instance stopped with
 * SIGTERM and started again in turn while it runs. The script waits for what the processes report
 * (start-up lines, HAProxy's view of each instance), never for a guessed time, and the bench's window
 * ends when the last instance is back (SIGTERM to the bench), so however slow the machine, the
 * restarts fall inside it; this test checks the script's verdict and the facts behind it.
 *
 * <p>Needs root (unshare -n) and haproxy, which .ci/run installs: without them it fails, it is never
 * skipped.
 */
class ScaleOutIT {
    /** Only the bench's cap: its window ends when the restarts are over (about 4 s on two busy cores). */
    private static final String CAP = "150s";
    private static final int CONNECTIONS = 50;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void threeInstancesBehindHaproxyRestartInTurnWithoutAClientNoticing() throws Exception {
        Command run = Command.run(Duration.ofMinutes(3), env -> env.put("JAVA_HOME", System.getProperty("java.home")),
                List.of(Packages.root().resolve("bench/scale-out.sh").toString(), "-d", CAP, "-c", String.valueOf(CONNECTIONS),
                        "--coecho", Packages.root().resolve("coecho").toString()));
        String json = run.lastLine().replaceFirst("^scale-out: ", "");
        String report = "exit " + run.exit() + "\n" + run.stderr() + "\n" + json;
        assertEquals(0, run.exit(), report);
        assertTrue(json.startsWith("{\"ok\":true,\"problems\":[]"), report);

        // What the script judged, checked again from its results.
        assertTrue(json.contains("\"errors\":{\"mismatch\":0,\"connect\":0,\"reset\":0,\"eof\":0,\"silent\":0},\"ok\":true"),
                "every echoed byte verified, nothing refused, reset or cut short: " + report);
        assertTrue(json.contains("\"stopped_early\":true"), "the window ended after the last restart, not on its own: " + report);
        long reconnects = number(json, "\"reconnects\":(\\d+)");
        assertTrue(reconnects > 0, "the drains closed bench connections, which came back: " + report);
        Matcher perInstance = Pattern.compile("\"sessions_per_instance\":\\{\"s1\":(\\d+),\"s2\":(\\d+),\"s3\":(\\d+)}").matcher(json);
        assertTrue(perInstance.find(), report);
        for (int i = 1; i <= 3; i++) {
            assertTrue(Long.parseLong(perInstance.group(i)) > 0, "instance " + i + " served client sessions: " + report);
        }
        // Every instance read PROXY v2 headers: its clients' through HAProxy and HAProxy's LOCAL checks.
        Matcher proxied = Pattern.compile("\"(s\\d)\":\\{\"client\":(\\d+),\"local\":(\\d+),\"refused\":(\\d+)}").matcher(json);
        int instances = 0;
        while (proxied.find()) {
            instances++;
            assertTrue(Long.parseLong(proxied.group(2)) > 0 && Long.parseLong(proxied.group(3)) > 0,
                    proxied.group(1) + " read client and LOCAL headers: " + report);
            assertEquals("0", proxied.group(4), proxied.group(1) + " refused no header: " + report);
        }
        assertEquals(3, instances, "PROXY header counts for every instance: " + report);
        Matcher restart = Pattern.compile("\"drain_ms\":(\\d+),\"start_ms\":(\\d+),\"back_in_haproxy_ms\":(\\d+),"
                + "\"drained\":(\\d+),\"cut\":(\\d+)").matcher(json);
        List<String> restarts = new ArrayList<>();
        while (restart.find()) {
            assertEquals("0", restart.group(5), "a clean drain cuts nothing: " + report);
            restarts.add("drain " + restart.group(1) + " ms (" + restart.group(4) + " connections), listening again "
                    + restart.group(2) + " ms later, back in HAProxy " + restart.group(3) + " ms after SIGTERM");
        }
        assertEquals(3, restarts.size(), "every instance restarted once: " + report);
        System.out.printf("scale-out: %d connections, %d reconnects, %d bytes echoed and verified; restarts: %s%n",
                CONNECTIONS, reconnects, number(json, "\"echoed_bytes\":(\\d+)"), restarts);
    }

    private static long number(String json, String regex) {
        Matcher m = Pattern.compile(regex).matcher(json);
        assertTrue(m.find(), regex + " in " + json);
        return Long.parseLong(m.group(1));
    }
}
