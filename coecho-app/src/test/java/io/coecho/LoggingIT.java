package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Log levels as an operator sets them: connection events only at debug (from --log-level or a
 * java.util.logging config file), never at the default level.
 */
class LoggingIT {

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void connectionEventsAppearAtDebugOnly(ServerTarget target) throws Exception {
        assertTrue(connectionLogged(target, List.of("--log-level", "debug")), target + ": no connection line at debug");
        assertFalse(connectionLogged(target, List.of()), target + ": a connection line at the default level");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aLoggingConfigFileSetsTheLevel(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("logging.properties");
        Files.writeString(config, """
                handlers = java.util.logging.ConsoleHandler
                java.util.logging.ConsoleHandler.level = FINE
                .level = INFO
                io.coecho.server.level = FINE
                """);
        assertTrue(connectionLogged(ServerTarget.EPOLL, List.of("--log-config", config.toString())),
                "the config file's FINE level for io.coecho.server was not applied");
    }

    /** Starts the server, makes one echo round trip, stops it; true if a connection line was logged. */
    private static boolean connectionLogged(ServerTarget target, List<String> logArgs) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(logArgs);
        try (ServerProcess p = ServerProcess.start(0, args)) {
            try (Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
                c.setSoTimeout(20_000);
                Traffic.echo(c, "logged?\n".getBytes(StandardCharsets.US_ASCII), target + ": echo");
            }
            p.terminate();
            // Every line it wrote, not those read so far: the negative case must see the whole log.
            assertEquals(0, p.awaitExit(Duration.ofSeconds(30)), target + ": exit code; stderr " + p.stderr());
            return p.stderr().stream().anyMatch(l -> l.contains("accepted from") || l.contains(": closed"));
        }
    }
}
