package io.coecho.runtime.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * sd_notify(3) without libsystemd: tells the service manager how the service is doing ("READY=1",
 * "STOPPING=1", "STATUS=...") with one datagram to the AF_UNIX socket named in {@code $NOTIFY_SOCKET},
 * through the same FFM syscalls as the rest of the transport. A name starting with '@' is an abstract
 * socket (its first byte becomes NUL on the wire).
 *
 * <p>Without {@code $NOTIFY_SOCKET} (not started by systemd, or not as Type=notify) every call does
 * nothing. When a notification cannot be sent (no socket at that path, not a datagram socket, no
 * permission, an address this class cannot use) it logs one WARNING line and sends nothing more: the
 * server goes on serving, and systemd, which then never sees READY=1, reports the start as timed
 * out, which is the operator's cue.
 *
 * <p>Thread-safe: calls are serialised (a signal handler may report STOPPING=1 while the main
 * thread reports READY=1). Each call opens a socket, sends, and closes it, as sd_notify does.
 */
public final class SystemdNotifier {
    private static final System.Logger LOG = System.getLogger(SystemdNotifier.class.getName());
    private static final int AF_UNIX = 1;
    /** sizeof(sun_path) in struct sockaddr_un. */
    private static final int PATH_MAX = 108;
    private static final int ENOENT = 2;
    private static final int ENOTDIR = 20;
    private static final int ENOTSOCK = 88;
    private static final int EPROTOTYPE = 91;

    private final String address;
    /** Why nothing can be sent (set at creation for a bad address, or by the first failed send). */
    private String problem;
    private boolean warned;

    private SystemdNotifier(String address, String problem) {
        this.address = address;
        this.problem = problem;
    }

    /** The notifier for the service manager named by this process's {@code $NOTIFY_SOCKET}. */
    public static SystemdNotifier fromEnvironment() {
        return create(System.getenv("NOTIFY_SOCKET"));
    }

    /** A notifier for a socket address as {@code $NOTIFY_SOCKET} gives it; null or empty: does nothing. */
    public static SystemdNotifier create(String address) {
        if (address == null || address.isEmpty()) {
            return new SystemdNotifier(null, null);
        }
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return new SystemdNotifier(address, "only Linux has a service manager socket coecho can use");
        }
        if (!address.startsWith("/") && !address.startsWith("@")) {
            return new SystemdNotifier(address, "not an AF_UNIX socket path or @abstract name");
        }
        int bytes = address.getBytes(StandardCharsets.UTF_8).length;
        if (bytes + (address.startsWith("/") ? 1 : 0) > PATH_MAX) {
            return new SystemdNotifier(address, "longer than a socket address can be (" + PATH_MAX + " bytes)");
        }
        return new SystemdNotifier(address, null);
    }

    /** True when there is a service manager to notify (it may still fail to take the message). */
    public boolean enabled() {
        return address != null;
    }

    /**
     * Sends state, newline-separated assignments such as {@code "READY=1\nSTATUS=serving"}. Returns
     * true if the datagram was sent, false if notifications are off or failed (logged once).
     */
    public synchronized boolean notify(String state) {
        if (address == null) {
            return false;
        }
        if (problem == null) {
            problem = send(state);
        }
        if (problem == null) {
            return true;
        }
        if (!warned) {
            warned = true;
            LOG.log(System.Logger.Level.WARNING, "cannot notify the service manager at NOTIFY_SOCKET={0}: {1};"
                    + " serving on, without readiness notifications", address, problem);
        }
        return false;
    }

    /** One datagram; null when sent, else what went wrong, in words. */
    private String send(String state) {
        Syscalls sys = new Syscalls();
        try (Arena arena = Arena.ofConfined()) {
            byte[] name = address.getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = arena.allocate(2 + PATH_MAX, 2);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            int addrLen = 2 + name.length;
            if (name[0] == '@') {
                addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0); // abstract: no NUL terminator, length counts
            } else {
                addrLen++; // a path: the terminating NUL (already zero) is part of the address
            }
            byte[] text = state.getBytes(StandardCharsets.UTF_8);
            MemorySegment msg = arena.allocate(Math.max(1, text.length));
            MemorySegment.copy(text, 0, msg, ValueLayout.JAVA_BYTE, 0, text.length);
            // Non-blocking: a service manager that does not read must not hang the server.
            int fd = sys.socket(AF_UNIX, LinuxConstants.SOCK_DGRAM | LinuxConstants.SOCK_CLOEXEC
                    | LinuxConstants.SOCK_NONBLOCK, 0);
            if (fd < 0) {
                return "socket: " + describe(-fd);
            }
            try {
                long r = sys.sendTo(fd, msg, text.length, addr, addrLen);
                return r < 0 ? describe((int) -r) : null;
            } finally {
                sys.close(fd);
            }
        }
    }

    private static String describe(int errno) {
        return switch (errno) {
            case ENOENT, ENOTDIR -> "no such socket (ENOENT)";
            case Errno.ECONNREFUSED -> "nothing listens there (ECONNREFUSED)";
            case ENOTSOCK, EPROTOTYPE -> "not a datagram socket (" + (errno == ENOTSOCK ? "ENOTSOCK" : "EPROTOTYPE") + ")";
            case Errno.EACCES, Errno.EPERM -> "permission denied (" + Errno.name(errno) + ")";
            case Errno.EAGAIN -> "its queue is full (EAGAIN)";
            default -> Errno.name(errno);
        };
    }
}
