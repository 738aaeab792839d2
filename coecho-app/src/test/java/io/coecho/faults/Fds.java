package io.coecho.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Counting a server's file descriptors from outside it, through /proc: all of a process's, or, for a
 * server running inside the test's own JVM beside its clients, only the sockets whose local port is
 * the server's (its listener and the connections it accepted).
 *
 * <p>Stateless; safe from any thread. Linux only.
 */
final class Fds {
    private Fds() {}

    /** Every open descriptor of process pid (/proc/PID/fd). */
    static int ofProcess(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * This JVM's descriptors that are TCP sockets bound to local port: the sockets' inodes from
     * /proc/net/tcp and tcp6 (a connection in TIME_WAIT has inode 0: it holds no descriptor), matched
     * against the targets of /proc/self/fd's links.
     */
    static int socketsOnPort(int port) {
        Set<String> inodes = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table))) {
                    String[] f = line.trim().split("\\s+");
                    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
                    if (f.length > 9 && f[1].contains(":") && !f[0].equals("sl")
                            && Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16) == port && !f[9].equals("0")) {
                        inodes.add("socket:[" + f[9] + "]");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        int n = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (inodes.contains(Files.readSymbolicLink(fd).toString())) {
                        n++;
                    }
                } catch (IOException e) {
                    // closed between the listing and the read: not open any more
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }
}
