package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Start-up through the real jar, as a user meets it: a port in use is exit code 1 and one line that
 * says so; bad arguments are exit code 2 and a clear message; never a stack trace.
 */
class StartupErrorsIT {
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void portInUse(ServerTarget target) throws Exception {
        // The port's holder uses SO_REUSEPORT, as another coecho would: the kernel would let our own
        // SO_REUSEPORT listeners join it silently, so the server must notice and refuse.
        try (ServerSocket taken = new ServerSocket()) {
            taken.setOption(java.net.StandardSocketOptions.SO_REUSEPORT, true);
            taken.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            List<String> args = new ArrayList<>(List.of("serve", "--bind", "127.0.0.1",
                    "--port", String.valueOf(taken.getLocalPort()), "--threads", "2"));
            args.addAll(target.cliArgs());
            JarRun run = JarRun.of(args);
            assertEquals(1, run.exitCode(), target + ": exit code; stderr: " + run.stderr());
            List<String> lines = run.errorLines();
            assertEquals(1, lines.size(), target + ": one line on stderr, got " + lines);
            assertTrue(lines.get(0).toLowerCase(Locale.ROOT).contains("in use"), target + ": says why: " + lines);
            assertTrue(lines.get(0).contains(String.valueOf(taken.getLocalPort())), target + ": names the port: " + lines);
            assertFalse(run.hasStackTrace(), target + ": no stack trace");
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void adminPortInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            JarRun run = JarRun.of(List.of("serve", "--bind", "127.0.0.1", "--port", "0",
                    "--admin", "127.0.0.1:" + taken.getLocalPort()));
            assertEquals(1, run.exitCode(), "exit code; stderr: " + run.stderr());
            List<String> lines = run.errorLines();
            assertEquals(1, lines.size(), "one line on stderr, got " + lines);
            assertTrue(lines.get(0).startsWith("coecho: cannot bind admin address 127.0.0.1:" + taken.getLocalPort()), lines.get(0));
            assertFalse(run.hasStackTrace(), "no stack trace");
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            --port 70000          | 70000
            --port abc            | abc
            --no-such-option      | --no-such-option
            --idle-timeout 5x     | 5x
            --buffer-size 0       | buffer size
            """)
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void badArguments(String arguments, String mentioned) throws Exception {
        List<String> args = new ArrayList<>(List.of("serve", "--bind", "127.0.0.1"));
        args.addAll(List.of(arguments.split(" ")));
        JarRun run = JarRun.of(args);
        assertEquals(2, run.exitCode(), arguments + ": exit code; stderr: " + run.stderr());
        List<String> lines = run.errorLines();
        assertFalse(lines.isEmpty(), arguments + ": a message on stderr");
        assertTrue(lines.get(0).startsWith("coecho: "), arguments + ": first line is coecho's: " + lines);
        assertTrue(lines.get(0).contains(mentioned), arguments + ": the message names '" + mentioned + "': " + lines);
        assertEquals(1, lines.size(), arguments + ": one line, got " + lines);
        assertFalse(run.hasStackTrace(), arguments + ": no stack trace: " + run.stderr());
        assertEquals("", run.stdout(), arguments + ": nothing on stdout");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void versionAndHelp() throws Exception {
        JarRun version = JarRun.of(List.of("--version"));
        assertEquals(0, version.exitCode(), version.stderr());
        assertTrue(version.stdout().matches("(?s)coecho \\d+\\.\\d+\\.\\d+.*"), "version line: " + version.stdout());

        JarRun help = JarRun.of(List.of("--help"));
        assertEquals(0, help.exitCode(), help.stderr());
        assertTrue(help.stdout().contains("Usage: coecho") && help.stdout().contains("serve"), help.stdout());

        JarRun serveHelp = JarRun.of(List.of("serve", "--help"));
        assertEquals(0, serveHelp.exitCode(), serveHelp.stderr());
        for (String option : List.of("--port", "--bind", "--threads", "--buffer-size", "--transport", "--engine")) {
            assertTrue(serveHelp.stdout().contains(option), "serve --help lists " + option);
        }
        assertEquals("", version.stderr() + help.stderr() + serveHelp.stderr(), "nothing on stderr");
    }
}
