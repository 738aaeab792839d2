package io.coecho;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One run of the real jar, {@code java -jar target/coecho.jar ...}, as a user would start it: its
 * exit code and what it printed. The process is killed if it outlives the timeout.
 *
 * @param exitCode the process's exit code
 * @param stdout everything it wrote to stdout
 * @param stderr everything it wrote to stderr
 */
public record JarRun(int exitCode, String stdout, String stderr) {
    private static final long TIMEOUT_SECONDS = 30;

    /** Runs the jar (path from the system property coecho.jar, set by failsafe) with args. */
    public static JarRun of(List<String> args) throws IOException, InterruptedException {
        return of(args, Map.of());
    }

    /** Runs the jar with args and env added to its environment (no other COECHO_* variable). */
    public static JarRun of(List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        String jar = System.getProperty("coecho.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)),
                "system property coecho.jar must name the built jar (failsafe sets it), got " + jar);
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", // start-up only: the quick compiler is enough
                "-jar", jar));
        cmd.addAll(args);
        Path out = Files.createTempFile("coecho-out", ".txt");
        Path err = Files.createTempFile("coecho-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().keySet().removeIf(k -> k.startsWith("COECHO_"));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("still running after " + TIMEOUT_SECONDS + " s: " + args
                        + "\nstderr: " + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new JarRun(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The non-blank lines of stderr. */
    public List<String> errorLines() {
        return stderr.lines().filter(l -> !l.isBlank()).toList();
    }

    /** True if stderr or stdout shows a Java stack trace or an exception class name. */
    public boolean hasStackTrace() {
        String all = stdout + stderr;
        return all.contains("\tat ") || all.matches("(?s).*\\b[a-z]+(\\.[a-z]+)+\\.[A-Z]\\w*(Exception|Error)\\b.*");
    }
}
