package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Configuration as a container gives it, through the real jar: every option of serve also from
 * COECHO_&lt;OPTION&gt; (bench's from COECHO_BENCH_&lt;OPTION&gt;), the command line winning, and a bad
 * value from the environment a one-line error that names the variable.
 */
class EnvironmentConfigIT {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theEnvironmentAloneConfiguresTheServer(ServerTarget target) throws Exception {
        List<String> cli = target.cliArgs(); // --engine E --transport T, here as variables
        Map<String, String> env = Map.of("COECHO_PORT", "0", "COECHO_BIND", "127.0.0.1",
                "COECHO_ENGINE", cli.get(1), "COECHO_TRANSPORT", cli.get(3),
                "COECHO_IDLE_TIMEOUT", "300ms", "COECHO_ADMIN", "127.0.0.1:0", "COECHO_REUSE_PORT", "false");
        try (ServerProcess p = ServerProcess.startWith(env, List.of());
                Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
            String started = p.stderr().stream().filter(l -> l.contains("listening on 127.0.0.1:")).findFirst().orElseThrow();
            String engine = cli.get(1).equals("coroutines") ? cli.get(3) + " transport" : cli.get(1) + " engine";
            assertTrue(started.contains(engine), target + ": engine and transport from the environment: " + started);
            if (cli.get(1).equals("coroutines") && Runtime.getRuntime().availableProcessors() > 1) {
                assertTrue(started.contains("served by one acceptor"), target + ": COECHO_REUSE_PORT=false: " + started);
            }
            c.setSoTimeout(20_000);
            Traffic.echo(c, "configured by env\n".getBytes(StandardCharsets.US_ASCII), target + ": echo");
            // The idle timeout from COECHO_IDLE_TIMEOUT closes it; the admin port from COECHO_ADMIN counts it.
            Traffic.assertEof(c.getInputStream(), target + ": idle connection");
            assertEquals(1, p.awaitMetric("coecho_idle_timeouts_total", n -> n == 1, WAIT), target.label());
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theCommandLineWins() throws Exception {
        // Each of these would fail or show: a privileged port, a bad duration, JSON lines.
        Map<String, String> env = Map.of("COECHO_PORT", "1", "COECHO_IDLE_TIMEOUT", "5x", "COECHO_LOG_FORMAT", "json",
                "COECHO_BIND", "127.0.0.1");
        try (ServerProcess p = ServerProcess.startWith(env,
                List.of("--port", "0", "--idle-timeout", "1h", "--log-format", "text"))) {
            p.terminate();
            assertEquals(0, p.awaitExit(WAIT), "exit code; stderr " + p.stderr());
            assertFalse(p.stderr().isEmpty());
            for (String line : p.stderr()) {
                assertFalse(line.startsWith("{"), "a JSON line though the command line said text: " + line);
            }
        }
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', textBlock = """
            COECHO_PORT                 | abc      | serve
            COECHO_PORT                 | 70000    | serve
            COECHO_IDLE_TIMEOUT         | 5x       | serve
            COECHO_UDP                  | maybe    | serve
            COECHO_BUFFER_SIZE          | 0        | serve
            COECHO_LOG_FORMAT           | xml      | serve
            COECHO_METRICS              | nonsense | serve
            COECHO_UDP_MIN_SOURCE_PORT  | 0        | serve
            COECHO_BENCH_CONNECTIONS    | many     | bench
            """)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aBadValueFromTheEnvironmentNamesTheVariable(String variable, String value, String command) throws Exception {
        Map<String, String> env = new HashMap<>(Map.of(variable, value));
        env.putIfAbsent("COECHO_BIND", "127.0.0.1");
        JarRun run = JarRun.of(List.of(command), env);
        assertEquals(2, run.exitCode(), variable + ": exit code; stderr: " + run.stderr());
        List<String> lines = run.errorLines();
        assertEquals(1, lines.size(), variable + ": one line, got " + lines);
        assertTrue(lines.get(0).startsWith("coecho: "), variable + ": " + lines);
        assertTrue(lines.get(0).contains(variable + "=" + value), variable + ": the message names the variable: " + lines);
        assertFalse(run.hasStackTrace(), variable + ": no stack trace: " + run.stderr());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void helpStatesTheRule() throws Exception {
        JarRun serve = JarRun.of(List.of("serve", "--help"));
        assertEquals(0, serve.exitCode(), serve.stderr());
        String text = serve.stdout().replaceAll("\\s+", " ");
        assertTrue(text.contains("COECHO_<OPTION>") && text.contains("The command line wins"), serve.stdout());
        JarRun bench = JarRun.of(List.of("bench", "--help"));
        assertEquals(0, bench.exitCode(), bench.stderr());
        assertTrue(bench.stdout().contains("COECHO_BENCH_<OPTION>"), bench.stdout());
    }
}
