package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the repository's launcher writes on stdout is the command's output alone. The JVM writes its
 * own warnings and errors (unified logging) to stdout unless told otherwise, which would turn
 * {@code coecho bench --json} into something no JSON parser reads; the launcher's options send them
 * to stderr.
 */
class LauncherOutputIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void benchJsonStaysOneJsonDocumentWhenTheJvmComplains(@TempDir Path dir) throws Exception {
        // A class data archive that does not exist: the JVM logs an error about it and runs on.
        String complaint = "-XX:SharedArchiveFile=" + dir.resolve("missing.jsa");
        try (ServerProcess server = ServerProcess.startLauncher(List.of("--threads", "1"))) {
            Path launcher = Packages.root().resolve("coecho");
            assertTrue(Files.isExecutable(launcher), "no launcher at " + launcher);
            Command bench = Command.run(WAIT, env -> {
                env.put("JAVA_HOME", System.getProperty("java.home"));
                env.put("COECHO_JAVA_OPTS", complaint);
                env.keySet().removeIf(k -> k.startsWith("COECHO_BENCH_"));
            }, List.of(launcher.toString(), "bench", "127.0.0.1", String.valueOf(server.address().getPort()),
                    "-c", "2", "-d", "300ms", "-w", "0", "--json"));
            assertEquals(0, bench.exit(), bench.stderr());
            assertTrue(bench.stderr().contains("missing.jsa"),
                    "the JVM's complaint reaches stderr (else this test proves nothing): " + bench.stderr());
            String out = bench.stdout().strip();
            assertTrue(out.startsWith("{") && out.endsWith("}") && out.lines().count() == 1,
                    "stdout is one JSON document and nothing else: " + bench.stdout());
            assertTrue(out.contains("\"ok\":true"), out);
        }
    }
}
