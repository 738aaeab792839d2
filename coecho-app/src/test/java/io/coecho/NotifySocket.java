package io.coecho;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The service manager's end of sd_notify, for tests: an AF_UNIX datagram socket bound to a path or,
 * for a name starting with '@', an abstract name, receiving notifications together with the
 * sender's PID (SO_PASSCRED, as systemd checks NotifyAccess=main). Java's own APIs have no AF_UNIX
 * datagrams, so it calls libc through FFM, with bindings of its own: the code under test does not
 * test itself. Linux on a 64-bit machine (the msghdr layout below).
 *
 * <p>One thread at a time.
 */
final class NotifySocket implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PASSCRED = 16;
    private static final int SCM_CREDENTIALS = 2;
    private static final int MSG_DONTWAIT = 0x40;
    private static final short POLLIN = 1;
    private static final int EINTR = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = call("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle BIND = call("bind", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle SETSOCKOPT = call("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle POLL = call("poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle RECVMSG = call("recvmsg", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle CLOSE = call("close", JAVA_INT, JAVA_INT);

    /**
     * One notification.
     *
     * @param text the datagram, newline-separated assignments ("READY=1\nSTATUS=...")
     * @param pid the sender's process id, as the kernel vouches for it
     */
    record Message(String text, long pid) {
        List<String> assignments() {
            return Arrays.asList(text.split("\n"));
        }

        /** The value of KEY=value, or null. */
        String get(String key) {
            for (String a : assignments()) {
                if (a.startsWith(key + "=")) {
                    return a.substring(key.length() + 1);
                }
            }
            return null;
        }
    }

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment state = arena.allocate(CAPTURE);
    private final String address;
    private final int fd;

    private NotifySocket(String address) {
        this.address = address;
        this.fd = check("socket", (int) invoke(SOCKET, state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        try {
            byte[] name = address.getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = arena.allocate(110, 2);
            addr.set(JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            int len = 2 + name.length;
            if (name[0] == '@') {
                addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
            } else {
                len++;
            }
            check("bind " + address, (int) invoke(BIND, state, fd, addr, len));
            MemorySegment one = arena.allocate(JAVA_INT);
            one.set(JAVA_INT, 0, 1);
            check("setsockopt SO_PASSCRED", (int) invoke(SETSOCKOPT, state, fd, SOL_SOCKET, SO_PASSCRED, one, 4));
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** A socket bound to address: an absolute path (a socket file) or "@name" (abstract). */
    static NotifySocket bind(String address) {
        return new NotifySocket(address);
    }

    /** The address to put in NOTIFY_SOCKET. */
    String address() {
        return address;
    }

    /** The next notification; fails the test if none arrives within timeout. */
    Message receive(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        MemorySegment pollfd = arena.allocate(8, 4);
        MemorySegment data = arena.allocate(4096);
        MemorySegment iov = arena.allocate(16, 8);
        MemorySegment control = arena.allocate(64, 8);
        MemorySegment msghdr = arena.allocate(56, 8);
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no notification at " + address + " within " + timeout);
            }
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, POLLIN);
            pollfd.set(JAVA_SHORT, 6, (short) 0);
            int ready = (int) invoke(POLL, state, pollfd, 1L, (int) Math.max(1, Math.min(left / 1_000_000, 1000)));
            if (ready < 0 && errno() != EINTR) {
                throw new AssertionError("poll: errno " + errno());
            }
            if (ready <= 0) {
                continue; // nothing yet: wait again until the deadline
            }
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, data.byteSize());
            msghdr.fill((byte) 0);
            msghdr.set(ADDRESS, 16, iov);
            msghdr.set(JAVA_LONG, 24, 1L);
            msghdr.set(ADDRESS, 32, control);
            msghdr.set(JAVA_LONG, 40, control.byteSize());
            long n = (long) invoke(RECVMSG, state, fd, msghdr, MSG_DONTWAIT);
            if (n < 0) {
                throw new AssertionError("recvmsg: errno " + errno());
            }
            String text = new String(data.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            return new Message(text, senderPid(control, msghdr.get(JAVA_LONG, 40)));
        }
    }

    /** The pid in the SCM_CREDENTIALS control message (struct ucred: pid, uid, gid), or -1. */
    private static long senderPid(MemorySegment control, long length) {
        long at = 0;
        while (at + 16 <= length) {
            long len = control.get(JAVA_LONG, at);
            int level = control.get(JAVA_INT, at + 8);
            int type = control.get(JAVA_INT, at + 12);
            if (level == SOL_SOCKET && type == SCM_CREDENTIALS && len >= 16 + 12) {
                return control.get(JAVA_INT, at + 16);
            }
            if (len < 16) {
                break;
            }
            at += (len + 7) & ~7L;
        }
        return -1;
    }

    @Override
    public void close() {
        if (fd >= 0) {
            invoke(CLOSE, state, fd);
        }
        arena.close();
    }

    private int errno() {
        return (int) ERRNO.get(state, 0L);
    }

    private int check(String what, int r) {
        if (r < 0) {
            throw new AssertionError(what + ": errno " + errno());
        }
        return r;
    }

    private static MethodHandle call(String name, MemoryLayout result, MemoryLayout... args) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(result, args), Linker.Option.captureCallState("errno"));
    }

    private static Object invoke(MethodHandle h, Object... args) {
        try {
            return h.invokeWithArguments(args);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
