package io.coecho;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code coecho serve} as a real process (the built jar, as a user starts it), for what only a
 * process shows: signals, exit codes, the log, the open-files limit. Its stderr is read line by line
 * as it comes; the process is killed when the test closes it.
 *
 * <p>Used from the test thread; one reader thread per process.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+) ");

    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final int port;

    private final Path stderrFile;
    private final Thread reader;

    private ServerProcess(Process process, Path stderrFile) throws InterruptedException {
        this.process = process;
        this.stderrFile = stderrFile;
        reader = new Thread(this::pump, "server-stderr");
        reader.setDaemon(true);
        reader.start();
        Matcher m = LISTENING.matcher(awaitLine("listening on ", Duration.ofSeconds(30)));
        assertTrue(m.find(), "no port in the start-up line: " + seen);
        this.port = Integer.parseInt(m.group(1));
    }

    /** Starts the jar with "serve --port 0 --bind 127.0.0.1" and args; openFiles &gt; 0 sets ulimit -n. */
    public static ServerProcess start(int openFiles, List<String> args) throws IOException, InterruptedException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "serve", "--port", "0", "--bind", "127.0.0.1"));
        java.addAll(args);
        return launch(openFiles, java);
    }

    /**
     * Starts the repository's launcher, {@code ./coecho serve --port 0 --bind 127.0.0.1} and args, as
     * the README says to: it must exec the JVM, so that this process is the server itself.
     */
    public static ServerProcess startLauncher(List<String> args) throws IOException, InterruptedException {
        Path launcher = jar().getParent().getParent().resolve("coecho");
        assertTrue(Files.isExecutable(launcher), "no launcher at " + launcher);
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "serve", "--port", "0", "--bind", "127.0.0.1"));
        cmd.addAll(args);
        return launch(0, cmd);
    }

    private static Path jar() {
        String jar = System.getProperty("coecho.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "system property coecho.jar must name the built jar");
        return Path.of(jar);
    }

    private static ServerProcess launch(int openFiles, List<String> java) throws IOException, InterruptedException {
        List<String> cmd = java;
        if (openFiles > 0) {
            // exec: the JVM replaces the shell, so signals sent to the process reach it.
            cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$@\"", "coecho"));
            cmd.addAll(java);
        }
        // stderr goes to a file we follow, not a pipe: when a process exits, the JDK closes its pipe
        // stream under a blocked reader and keeps the last lines for itself (exactly the shutdown log).
        Path err = Files.createTempFile("coecho-stderr", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home")); // the launcher's JDK: ours
        Process p = pb.start();
        try {
            return new ServerProcess(p, err);
        } catch (AssertionError | RuntimeException | InterruptedException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** Follows the stderr file like tail -f until the process has ended and everything is read. */
    private void pump() {
        try (BufferedReader r = Files.newBufferedReader(stderrFile, StandardCharsets.UTF_8)) {
            StringBuilder partial = new StringBuilder();
            while (true) {
                boolean ended = !process.isAlive();
                int c;
                while ((c = r.read()) >= 0) {
                    if (c == '\n') {
                        lines.add(partial.toString());
                        partial.setLength(0);
                    } else {
                        partial.append((char) c);
                    }
                }
                if (ended) {
                    if (!partial.isEmpty()) {
                        lines.add(partial.toString());
                    }
                    return;
                }
                Thread.sleep(10); // the poll interval of a file follower, not a guess at timing
            }
        } catch (IOException | InterruptedException e) {
            lines.add("(cannot read the server's stderr: " + e.getMessage() + ")");
        }
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for a stderr line containing text; fails after timeout. Returns the line. */
    public String awaitLine(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
            if (line == null) {
                throw new AssertionError("no line with '" + text + "' within " + timeout + "; stderr so far:\n"
                        + String.join("\n", seen));
            }
            seen.add(line);
            if (line.contains(text)) {
                return line;
            }
        }
    }

    /** Sends SIGTERM (Process.destroy on Linux). */
    public void terminate() {
        process.destroy();
    }

    /** Waits for the exit and returns the exit code; fails after timeout. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        assertTrue(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS), "server still running after " + timeout);
        return process.exitValue();
    }

    /**
     * Every stderr line read so far; once the process has ended, every line it wrote (the follower
     * polls, so its last lines may still be on the way when the exit is seen: wait for it).
     */
    public List<String> stderr() throws InterruptedException {
        if (!process.isAlive()) {
            reader.join(Duration.ofSeconds(10));
        }
        lines.drainTo(seen);
        return List.copyOf(seen);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(stderrFile);
        } catch (IOException e) {
            // a temp file left behind is harmless
        }
    }
}
