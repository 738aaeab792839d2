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
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code coecho serve} as a real process (the built jar, as a user starts it), for what only a
 * process shows: signals, exit codes, the log, the open-files limit. Its stderr is read line by line
 * as it comes; the process is killed when the test closes it. Once {@link #awaitExit} has returned,
 * {@link #stderr()} holds every line the process wrote: it waits for the follower to read to the end.
 *
 * <p>Used from the test thread; one follower thread per process.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]+:(\\d+) ");

    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final int port;
    private InetSocketAddress admin;

    private final Path stderrFile;
    private final Thread follower;

    private ServerProcess(Process process, Path stderrFile) throws InterruptedException {
        this.process = process;
        this.stderrFile = stderrFile;
        this.follower = new Thread(this::pump, "server-stderr");
        follower.setDaemon(true);
        follower.start();
        Matcher m = LISTENING.matcher(awaitLine("listening on ", Duration.ofSeconds(30)));
        assertTrue(m.find(), "no port in the start-up line: " + seen);
        this.port = Integer.parseInt(m.group(1));
    }

    /** Starts the jar with "serve --port 0 --bind 127.0.0.1" and args; openFiles &gt; 0 sets ulimit -n. */
    public static ServerProcess start(int openFiles, List<String> args) throws IOException, InterruptedException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "serve", "--port", "0", "--bind", "127.0.0.1"));
        java.addAll(args);
        return launch(openFiles, java, env -> { });
    }

    /** As {@link #start(int, List)} (no ulimit), with extra environment variables (NOTIFY_SOCKET...). */
    public static ServerProcess start(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "serve", "--port", "0", "--bind", "127.0.0.1"));
        java.addAll(args);
        return launch(0, java, e -> e.putAll(env));
    }

    /**
     * Starts the jar with "serve" and args alone, and env added to its environment: the port and
     * address may come from there (COECHO_PORT=0, COECHO_BIND=127.0.0.1).
     */
    public static ServerProcess startWith(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-jar", jar().toString(), "serve"));
        java.addAll(args);
        return launch(0, java, e -> e.putAll(env));
    }

    /**
     * Starts any command line that runs {@code coecho serve} and logs its start-up line (a packaged
     * launcher, a command under setpriv...); environment edits the environment it inherits.
     */
    public static ServerProcess startCommand(List<String> cmd, Consumer<Map<String, String>> environment)
            throws IOException, InterruptedException {
        return launch(0, cmd, environment);
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
        return launch(0, cmd, env -> { });
    }

    private static Path jar() {
        String jar = System.getProperty("coecho.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "system property coecho.jar must name the built jar");
        return Path.of(jar);
    }

    private static ServerProcess launch(int openFiles, List<String> java, Consumer<Map<String, String>> environment)
            throws IOException, InterruptedException {
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
        pb.environment().remove("NOTIFY_SOCKET"); // a test run under systemd: its manager is not ours
        // The server's options from the environment are the test's alone, never the caller's shell's.
        pb.environment().keySet().removeIf(k -> k.startsWith("COECHO_") && !k.equals("COECHO_JAVA_OPTS"));
        environment.accept(pb.environment());
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

    /**
     * The admin endpoint's address, from the line that announces it (start the process with
     * {@code --admin 127.0.0.1:0}); waits for that line within timeout if not seen yet.
     */
    public InetSocketAddress admin(Duration timeout) throws InterruptedException {
        if (admin == null) {
            admin = announced("admin at http://", timeout);
        }
        return admin;
    }

    /**
     * The loopback address whose port the first line containing text gives right after it, e.g.
     * "agent check at " in "agent check at 127.0.0.1:41234"; waits for that line within timeout
     * if not seen yet.
     */
    public InetSocketAddress announced(String text, Duration timeout) throws InterruptedException {
        String line = seen.stream().filter(l -> l.contains(text)).findFirst().orElse(null);
        if (line == null) {
            line = awaitLine(text, timeout);
        }
        Matcher m = Pattern.compile(Pattern.quote(text) + "[^ \"]*:(\\d+)").matcher(line);
        assertTrue(m.find(), "no port after '" + text + "' in: " + line);
        return new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1)));
    }

    /**
     * Waits, within timeout, until the sum of metric's samples satisfies condition, scraping the
     * admin endpoint that the process announced (start it with {@code --admin 127.0.0.1:0}); returns
     * the last value. Polling a condition with a deadline, not waiting for a guessed time.
     */
    public long awaitMetric(String metric, java.util.function.LongPredicate condition, Duration timeout) throws Exception {
        InetSocketAddress at = admin(timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long value = Scrape.sum(Scrape.metrics(at), metric);
            if (condition.test(value)) {
                return value;
            }
            assertTrue(System.nanoTime() - deadline < 0, "never saw the awaited value of " + metric + "; last " + value);
            Thread.sleep(10);
        }
    }

    /** Sends SIGTERM (Process.destroy on Linux). */
    public void terminate() {
        process.destroy();
    }

    /**
     * Waits for the exit, then for the follower to have read every line the process wrote (it reads
     * to the end of the file after it sees the process gone, and a dead process writes nothing more);
     * returns the exit code. Fails after timeout.
     */
    public int awaitExit(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        assertTrue(process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS), "server still running after " + timeout);
        follower.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        assertTrue(!follower.isAlive(), "the server exited, but its stderr was not read to the end within " + timeout);
        return process.exitValue();
    }

    /** Every stderr line read so far; after {@link #awaitExit}, every line the process wrote. */
    public List<String> stderr() {
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
