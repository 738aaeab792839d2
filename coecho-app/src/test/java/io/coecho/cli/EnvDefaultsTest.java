package io.coecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Options from the environment, on a small command of the same kinds of options as serve's. */
class EnvDefaultsTest {
    @Command(name = "t", mixinStandardHelpOptions = true)
    static final class Options {
        @Option(names = {"-p", "--port"}, defaultValue = "8080")
        int port;

        @Option(names = "--idle-timeout", defaultValue = "5m", converter = DurationOption.class)
        Duration idleTimeout;

        @Option(names = "--udp")
        boolean udp;

        @Option(names = "--reuse-port", negatable = true, defaultValue = "true", fallbackValue = "true")
        boolean reusePort;

        @Option(names = {"--admin", "--metrics"})
        String admin;
    }

    private static Options parse(Map<String, String> env, String... args) {
        Options o = new Options();
        CommandLine cl = new CommandLine(o);
        cl.setDefaultValueProvider(new EnvDefaults("COECHO_", env));
        cl.parseArgs(args);
        return o;
    }

    @Test
    void theVariableIsThePrefixAndTheLongNameInCapitals() {
        EnvDefaults d = new EnvDefaults("COECHO_", Map.of());
        assertEquals("COECHO_PORT", d.variable("--port"));
        assertEquals("COECHO_IDLE_TIMEOUT", d.variable("--idle-timeout"));
        assertEquals("COECHO_UDP_MIN_SOURCE_PORT", d.variable("--udp-min-source-port"));
    }

    @Test
    void valuesComeFromTheEnvironmentThroughTheOptionsConverters() {
        Options o = parse(Map.of("COECHO_PORT", "7", "COECHO_IDLE_TIMEOUT", "30s", "COECHO_UDP", "true",
                "COECHO_REUSE_PORT", "false"));
        assertEquals(7, o.port);
        assertEquals(Duration.ofSeconds(30), o.idleTimeout);
        assertTrue(o.udp);
        assertEquals(false, o.reusePort);
    }

    @Test
    void withoutVariablesTheDefaultsStand() {
        Options o = parse(Map.of("PORT", "7", "coecho_port", "9"));
        assertEquals(8080, o.port);
        assertEquals(Duration.ofMinutes(5), o.idleTimeout);
        assertEquals(true, o.reusePort);
    }

    @Test
    void theCommandLineWins() {
        Options o = parse(Map.of("COECHO_PORT", "not even a number", "COECHO_REUSE_PORT", "false"), "--port", "9", "--reuse-port");
        assertEquals(9, o.port);
        assertEquals(true, o.reusePort);
    }

    @Test
    void everyLongNameHasAVariableTheFirstWinning() {
        assertEquals("a:1", parse(Map.of("COECHO_METRICS", "a:1")).admin);
        assertEquals("b:2", parse(Map.of("COECHO_METRICS", "a:1", "COECHO_ADMIN", "b:2")).admin);
    }

    @Test
    void helpAndVersionAreNotTaken() {
        Options o = new Options();
        CommandLine cl = new CommandLine(o);
        cl.setDefaultValueProvider(new EnvDefaults("COECHO_", Map.of("COECHO_HELP", "true", "COECHO_VERSION", "true")));
        CommandLine.ParseResult r = cl.parseArgs();
        assertTrue(!r.isUsageHelpRequested() && !r.isVersionHelpRequested());
    }

    @Test
    void anErrorNamesTheVariable() {
        EnvDefaults d = new EnvDefaults("COECHO_", Map.of("COECHO_PORT", "abc", "COECHO_UDP", "true"));
        CommandLine cl = new CommandLine(new Options());
        cl.setDefaultValueProvider(d);
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, cl::parseArgs);
        assertTrue(d.explain(e).startsWith("from the environment, COECHO_PORT=abc: "), d.explain(e));
    }

    @Test
    void aCheckAfterParsingNamesItsOptionByNameOrInWords() {
        EnvDefaults d = new EnvDefaults("COECHO_", Map.of("COECHO_IDLE_TIMEOUT", "0", "COECHO_UDP", "true"));
        CommandLine cl = new CommandLine(new Options());
        cl.setDefaultValueProvider(d);
        cl.parseArgs();
        assertEquals("from the environment, COECHO_UDP=true: --udp needs the coroutines engine",
                d.explain(new CommandLine.ParameterException(cl, "--udp needs the coroutines engine")));
        assertEquals("from the environment, COECHO_IDLE_TIMEOUT=0: idle timeout must be positive",
                d.explain(new CommandLine.ParameterException(cl, "idle timeout must be positive")));
        assertEquals("threads must be at least 1 (options from the environment: COECHO_IDLE_TIMEOUT=0, COECHO_UDP=true)",
                d.explain(new CommandLine.ParameterException(cl, "threads must be at least 1")));
    }
}
