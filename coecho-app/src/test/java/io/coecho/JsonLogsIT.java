package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.coecho.server.Engine;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code --log-format json} through the real process: every line it writes is one JSON object with
 * the fixed members, and connection events carry their structured fields (the remote address the
 * client sees as its own, the reason a connection was closed).
 */
class JsonLogsIT {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern RFC3339_MS = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)");
    private static final Set<String> LEVELS = Set.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE");

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void everyLineIsAJsonObjectWithTheConnectionsFields(ServerTarget target) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--log-format", "json", "--log-level", "debug", "--idle-timeout", "300ms", "--threads", "1"));
        String remote;
        List<String> lines;
        try (ServerProcess p = ServerProcess.start(0, args)) {
            try (Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
                c.setSoTimeout(20_000);
                remote = "127.0.0.1:" + c.getLocalPort();
                Traffic.echo(c, "logged as \"json\"\n".getBytes(StandardCharsets.US_ASCII), target + ": echo");
                Traffic.assertEof(c.getInputStream(), target + ": closed for idleness");
            }
            p.terminate();
            assertEquals(0, p.awaitExit(Duration.ofSeconds(30)), target + ": exit code; stderr " + p.stderr());
            lines = p.stderr();
        }
        List<JsonNode> records = new ArrayList<>();
        for (String line : lines) {
            JsonNode r = JSON.readTree(line); // fails on anything but one JSON value
            assertTrue(r.isObject(), target + ": not an object: " + line);
            assertTrue(RFC3339_MS.matcher(r.path("time").asText()).matches(), target + ": time in " + line);
            assertTrue(LEVELS.contains(r.path("level").asText()), target + ": level in " + line);
            assertTrue(r.path("logger").isTextual() && !r.path("logger").asText().isEmpty(), target + ": logger in " + line);
            assertTrue(r.path("message").isTextual(), target + ": message in " + line);
            records.add(r);
        }
        assertTrue(records.stream().anyMatch(r -> r.path("level").asText().equals("INFO")
                && r.path("message").asText().startsWith("listening on 127.0.0.1:")), target + ": start-up line in " + lines);
        JsonNode accepted = records.stream().filter(r -> remote.equals(r.path("remote").asText())).findFirst()
                .orElseThrow(() -> new AssertionError(target + ": no record with remote " + remote + " in " + lines));
        assertEquals("DEBUG", accepted.path("level").asText(), target + ": " + accepted);
        assertTrue(accepted.path("message").asText().contains("accepted from " + remote), target + ": " + accepted);
        JsonNode closing = records.stream().filter(r -> r.path("reason").asText().equals("idle timeout")).findFirst()
                .orElseThrow(() -> new AssertionError(target + ": no record with reason 'idle timeout' in " + lines));
        assertTrue(closing.path("message").asText().contains("closing (idle timeout)"), target + ": " + closing);
        if (target.engine() == Engine.COROUTINES) {
            // The coroutine engine names the connection as its stream does; the same on both records.
            assertTrue(accepted.path("connection").isTextual(), target + ": connection field in " + accepted);
            assertEquals(accepted.path("connection"), closing.path("connection"), target + ": same connection");
        } else {
            assertEquals(remote, closing.path("remote").asText(), target + ": " + closing);
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aServerThatCannotStartSaysSoInJson() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            JarRun run = JarRun.of(List.of("serve", "--bind", "127.0.0.1", "--port", String.valueOf(taken.getLocalPort()),
                    "--log-format", "json"));
            assertEquals(1, run.exitCode(), "exit code; stderr: " + run.stderr());
            List<String> lines = run.errorLines();
            assertEquals(1, lines.size(), "one line on stderr, got " + lines);
            JsonNode r = JSON.readTree(lines.get(0));
            assertEquals("ERROR", r.path("level").asText(), lines.get(0));
            assertTrue(r.path("message").asText().contains(String.valueOf(taken.getLocalPort())), lines.get(0));
        }
    }
}
