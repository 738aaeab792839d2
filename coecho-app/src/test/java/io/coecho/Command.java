package io.coecho;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One run of a command that ends by itself (a packaging script, dpkg-deb, a packaged bench): its
 * exit code and what it printed. Killed, and the test failed, if it outlives its timeout.
 *
 * @param exit the exit code
 * @param stdout everything it wrote to stdout
 * @param stderr everything it wrote to stderr
 */
public record Command(int exit, String stdout, String stderr) {

    /** Runs cmd with the test's environment. */
    public static Command run(Duration timeout, List<String> cmd) throws IOException, InterruptedException {
        return run(timeout, env -> { }, cmd);
    }

    /** Runs cmd with the test's environment as environment edits it, stdin from /dev/null. */
    public static Command run(Duration timeout, Consumer<Map<String, String>> environment, List<String> cmd)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("coecho-cmd-out", ".txt");
        Path err = Files.createTempFile("coecho-cmd-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            pb.environment().remove("NOTIFY_SOCKET");
            environment.accept(pb.environment());
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("still running after " + timeout + ": " + cmd
                        + "\nstderr: " + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Command(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Fails the test unless the command exited 0; returns this. */
    public Command ok(String what) {
        if (exit != 0) {
            throw new AssertionError(what + " exited " + exit + "\nstdout: " + stdout + "\nstderr: " + stderr);
        }
        return this;
    }

    /** The last non-blank line of stdout (where the packaging scripts print what they made). */
    public String lastLine() {
        List<String> lines = stdout.lines().filter(l -> !l.isBlank()).toList();
        return lines.isEmpty() ? "" : lines.getLast();
    }
}
