package io.coecho.faults;

import io.coecho.ServerProcess;
import io.coecho.ServerTarget;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts {@code coecho serve} as a real process for the scenarios that need one (a pause with
 * SIGSTOP, memory measured as RSS, an open-files limit), the way it ships: the launcher's JVM options
 * (packaging/jvm.options: G1, a small initial heap), so that its memory figures
 * are the ones an operator sees.
 *
 * <p>Stateless; call from the test thread.
 */
final class Launch {
    private Launch() {}

    /**
     * target's server on 127.0.0.1 port 0 with args; openFiles &gt; 0 sets ulimit -n first. The JIT
     * stops at C1, as in the other process tests: quicker to start on busy cores.
     */
    static ServerProcess serve(ServerTarget target, int openFiles, List<String> args) throws IOException, InterruptedException {
        return start(target, openFiles, List.of("-XX:TieredStopAtLevel=1"), args);
    }

    /** As shipped, C2 included: for a long run whose memory figures must be the operator's. */
    static ServerProcess serveAsShipped(ServerTarget target, List<String> args) throws IOException, InterruptedException {
        return start(target, 0, List.of(), args);
    }

    private static ServerProcess start(ServerTarget target, int openFiles, List<String> jvm, List<String> args)
            throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("coecho.jar"));
        Path options = jar.toAbsolutePath().getParent().getParent().resolve("packaging/jvm.options");
        List<String> cmd = new ArrayList<>();
        if (openFiles > 0) {
            // exec: the JVM replaces the shell, so signals sent to the process reach it.
            cmd.addAll(List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$@\"", "coecho"));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "@" + options));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-jar", jar.toString(), "serve", "--port", "0", "--bind", "127.0.0.1"));
        cmd.addAll(target.cliArgs());
        cmd.addAll(args);
        return ServerProcess.startCommand(cmd, env -> { });
    }

    /** The resident set of process pid, in KiB (VmRSS of /proc/PID/status). */
    static long rssKib(long pid) throws IOException {
        return status(pid, "VmRSS:");
    }

    /** The threads of process pid (Threads of /proc/PID/status). */
    static long threads(long pid) throws IOException {
        return status(pid, "Threads:");
    }

    private static long status(long pid, String field) throws IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
            if (line.startsWith(field)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + field + " for " + pid);
    }

    /** Sends a signal (STOP, CONT, ...) to pid with bash's kill: the JDK sends only TERM and KILL. */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", "kill -" + signal + " \"$1\"", "kill", String.valueOf(pid))
                .inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed");
        }
    }
}
