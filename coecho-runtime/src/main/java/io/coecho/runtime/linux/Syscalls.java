package io.coecho.runtime.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.coecho.runtime.net.PeerAddress;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;

/**
 * The one syscall chokepoint: every Linux call the runtime makes goes through here, by FFM
 * downcall, with errno captured by the linker (so nothing the JVM does between the call and our
 * read of errno can clobber it).
 *
 * <p>Convention, as in the kernel's own ABI: a call returns its result, or {@code -errno} when it
 * failed. EINTR is retried here, so callers never see it; EAGAIN comes back as {@code -EAGAIN}
 * because for a non-blocking socket it is flow, not an error.
 *
 * <p>Public for the io_uring transport (io.coecho.runtime.uring), which makes its calls here too, so
 * that this stays the one gate; applications never use it (LayersTest).
 *
 * <p>Threading: an instance owns a small errno capture buffer and is used by one thread at a time
 * (each event loop has its own). The method handles are shared.
 */
public final class Syscalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    // Short, non-blocking calls may skip the thread-state transition (critical). epoll_wait blocks,
    // so it must not: a critical call would stall safepoints, and so the GC, for its whole wait.
    private static final MethodHandle EPOLL_CREATE1 = fast("epoll_create1", JAVA_INT, JAVA_INT);
    private static final MethodHandle EPOLL_CTL = fast("epoll_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
    private static final MethodHandle EPOLL_WAIT = blocking("epoll_wait", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle EVENTFD = fast("eventfd", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle READ = fast("read", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle WRITE = fast("write", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle SOCKET = fast("socket", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle BIND = fast("bind", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle LISTEN = fast("listen", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle ACCEPT4 = fast("accept4", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
    private static final MethodHandle CONNECT = fast("connect", JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle RECV = fast("recv", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SEND = fast("send", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle RECVFROM =
            fast("recvfrom", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SENDTO =
            fast("sendto", JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle SHUTDOWN = fast("shutdown", JAVA_INT, JAVA_INT, JAVA_INT);
    private static final MethodHandle CLOSE = fast("close", JAVA_INT, JAVA_INT);
    private static final MethodHandle SETSOCKOPT =
            fast("setsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle GETSOCKOPT =
            fast("getsockopt", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle GETSOCKNAME = fast("getsockname", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle GETPEERNAME = fast("getpeername", JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);

    // io_uring has no libc wrapper in glibc: syscall(2), variadic after the number. Its arguments are
    // passed as longs (the kernel reads whole registers and truncates to the declared type).
    private static final long SYS_IO_URING_SETUP = 425;
    private static final long SYS_IO_URING_ENTER = 426;
    private static final long SYS_IO_URING_REGISTER = 427;
    private static final MethodHandle SYSCALL2 = variadic(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle SYSCALL4 =
            variadic(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    // io_uring_enter blocks while it waits for completions: not critical (see epoll_wait).
    private static final MethodHandle SYSCALL6 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            ERRNO, Linker.Option.firstVariadicArg(1));
    private static final MethodHandle MMAP =
            fast("mmap", ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
    private static final MethodHandle MUNMAP = fast("munmap", JAVA_INT, ADDRESS, JAVA_LONG);

    private final MemorySegment state;
    /** Scratch for int options and socklen_t out-parameters; one thread at a time, like the rest. */
    private final MemorySegment scratch;
    /** For {@link #peerAddress}: made at its first use (most instances never look a peer up). */
    private PeerAddress peer;

    /** A syscall gate for the calling thread: allocate one per thread and keep it. */
    public Syscalls() {
        Arena arena = Arena.ofAuto();
        this.state = arena.allocate(CAPTURE);
        this.scratch = arena.allocate(16, 8);
    }

    private static MethodHandle fast(String name, MemoryLayout result, MemoryLayout... args) {
        return link(name, FunctionDescriptor.of(result, args), ERRNO, Linker.Option.critical(false));
    }

    private static MethodHandle variadic(MemoryLayout result, MemoryLayout... args) {
        return link("syscall", FunctionDescriptor.of(result, args), ERRNO, Linker.Option.firstVariadicArg(1),
                Linker.Option.critical(false));
    }

    private static MethodHandle blocking(String name, MemoryLayout result, MemoryLayout... args) {
        return link(name, FunctionDescriptor.of(result, args), ERRNO);
    }

    private static MethodHandle link(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private int errno() {
        return (int) ERRNO_VALUE.get(state, 0L);
    }

    private int check(int r) {
        return r >= 0 ? r : -errno();
    }

    private long check(long r) {
        return r >= 0 ? r : -errno();
    }

    /** Throws for a negative result of one of this class's calls, with the call's name. */
    public static int orThrow(String call, int r) throws NativeException {
        if (r < 0) {
            throw new NativeException(call, -r);
        }
        return r;
    }

    public int epollCreate() {
        try {
            return check((int) EPOLL_CREATE1.invokeExact(state, LinuxConstants.EPOLL_CLOEXEC));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int epollCtl(int epfd, int op, int fd, MemorySegment event) {
        try {
            return check((int) EPOLL_CTL.invokeExact(state, epfd, op, fd, event));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Waits up to timeoutMillis (-1: forever). Returns the number of events, 0 on EINTR. */
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        try {
            int r = check((int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeoutMillis));
            // EINTR: a signal arrived. Return to the loop, which recomputes its timeout.
            return r == -Errno.EINTR ? 0 : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int eventfd(int initval, int flags) {
        try {
            return check((int) EVENTFD.invokeExact(state, initval, flags));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long read(int fd, MemorySegment buf, long len) {
        try {
            long r;
            do {
                r = check((long) READ.invokeExact(state, fd, buf, len));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long write(int fd, MemorySegment buf, long len) {
        try {
            long r;
            do {
                r = check((long) WRITE.invokeExact(state, fd, buf, len));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int socket(int domain, int type, int protocol) {
        try {
            return check((int) SOCKET.invokeExact(state, domain, type, protocol));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int bind(int fd, MemorySegment addr, int len) {
        try {
            return check((int) BIND.invokeExact(state, fd, addr, len));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int listen(int fd, int backlog) {
        try {
            return check((int) LISTEN.invokeExact(state, fd, backlog));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC, not asking for the peer's address. */
    public int accept(int fd) {
        try {
            int r;
            do {
                r = check((int) ACCEPT4.invokeExact(state, fd, MemorySegment.NULL, MemorySegment.NULL,
                        LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int connect(int fd, MemorySegment addr, int len) {
        try {
            // No EINTR retry: an interrupted connect goes on in the background, like EINPROGRESS.
            int r = check((int) CONNECT.invokeExact(state, fd, addr, len));
            return r == -Errno.EINTR ? -Errno.EINPROGRESS : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long recv(int fd, MemorySegment buf, long len, int flags) {
        try {
            long r;
            do {
                r = check((long) RECV.invokeExact(state, fd, buf, len, flags));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Whether fd has bytes from its peer that nobody has read: a one-byte recv with MSG_PEEK and
     * MSG_DONTWAIT into the scratch, which takes nothing off the socket. A shutdown (EOF) or an error
     * count as pending too: a read would return at once. Not for hot paths.
     */
    public boolean inputPending(int fd) {
        long r = recv(fd, scratch, 1, LinuxConstants.MSG_PEEK | LinuxConstants.MSG_DONTWAIT);
        return r != -Errno.EAGAIN;
    }

    /** send with MSG_NOSIGNAL always: a peer that went away gives EPIPE, never SIGPIPE. */
    public long send(int fd, MemorySegment buf, long len) {
        try {
            long r;
            do {
                r = check((long) SEND.invokeExact(state, fd, buf, len, LinuxConstants.MSG_NOSIGNAL));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** recvfrom; addr must hold a sockaddr_storage and addrLen a socklen_t set to its size. */
    public long recvFrom(int fd, MemorySegment buf, long len, int flags, MemorySegment addr, MemorySegment addrLen) {
        try {
            long r;
            do {
                r = check((long) RECVFROM.invokeExact(state, fd, buf, len, flags, addr, addrLen));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long sendTo(int fd, MemorySegment buf, long len, MemorySegment addr, int addrLen) {
        try {
            long r;
            do {
                r = check((long) SENDTO.invokeExact(state, fd, buf, len, LinuxConstants.MSG_NOSIGNAL, addr, addrLen));
            } while (r == -Errno.EINTR);
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int shutdown(int fd, int how) {
        try {
            return check((int) SHUTDOWN.invokeExact(state, fd, how));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close; never retried on EINTR (on Linux the fd is released even then). */
    public int close(int fd) {
        try {
            return check((int) CLOSE.invokeExact(state, fd));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int setIntOption(int fd, int level, int option, int value) {
        try {
            scratch.set(JAVA_INT, 0, value);
            return check((int) SETSOCKOPT.invokeExact(state, fd, level, option, scratch, 4));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** SO_LINGER (a struct linger: two ints, l_onoff and l_linger in seconds); 0 or -errno. */
    public int setLinger(int fd, boolean on, int seconds) {
        try {
            scratch.set(JAVA_INT, 0, on ? 1 : 0);
            scratch.set(JAVA_INT, 4, seconds);
            return check((int) SETSOCKOPT.invokeExact(state, fd, LinuxConstants.SOL_SOCKET, LinuxConstants.SO_LINGER,
                    scratch, 8));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An int socket option's value, or -errno. */
    public int getIntOption(int fd, int level, int option) {
        try {
            scratch.set(JAVA_INT, 0, 0);
            scratch.set(JAVA_INT, 4, 4);
            int r = check((int) GETSOCKOPT.invokeExact(state, fd, level, option, scratch, scratch.asSlice(4, 4)));
            return r < 0 ? r : scratch.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** getsockname; addr and addrLen as for {@link #recvFrom}. Returns 0 or -errno. */
    public int sockName(int fd, MemorySegment addr, MemorySegment addrLen) {
        return name(GETSOCKNAME, fd, addr, addrLen);
    }

    /** getpeername; addr and addrLen as for {@link #recvFrom}. Returns 0 or -errno. */
    public int peerName(int fd, MemorySegment addr, MemorySegment addrLen) {
        return name(GETPEERNAME, fd, addr, addrLen);
    }

    /**
     * A connected socket's peer, or null when it has none (reset, closed): getpeername into this
     * instance's own sockaddr buffer, made once, so a lookup allocates only the address it returns
     * (a fresh buffer each time cost an automatic arena, its cleaner and a malloc per connection).
     */
    public InetSocketAddress peerAddress(int fd) {
        if (peer == null) {
            peer = new PeerAddress();
        }
        peer.prepareReceive();
        return peerName(fd, peer.sockaddr(), peer.lengthCell()) < 0 ? null : peer.toInetSocketAddress();
    }

    private int name(MethodHandle call, int fd, MemorySegment addr, MemorySegment addrLen) {
        try {
            return check((int) call.invokeExact(state, fd, addr, addrLen));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** io_uring_setup(2): the ring's fd, or -errno (ENOSYS: no io_uring; EPERM: disabled or blocked). */
    public int ioUringSetup(int entries, MemorySegment params) {
        try {
            return (int) check((long) SYSCALL2.invokeExact(state, SYS_IO_URING_SETUP, (long) entries, params.address()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** io_uring_enter(2); may block. Returns what it returns, or -errno (EINTR included: the caller decides). */
    public int ioUringEnter(int ringFd, int toSubmit, int minComplete, int flags, MemorySegment arg, long argSize) {
        try {
            return (int) check((long) SYSCALL6.invokeExact(state, SYS_IO_URING_ENTER, (long) ringFd, (long) toSubmit,
                    (long) minComplete, (long) flags, arg.address(), argSize));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** io_uring_register(2). */
    public int ioUringRegister(int ringFd, int opcode, MemorySegment arg, int count) {
        try {
            return (int) check((long) SYSCALL4.invokeExact(state, SYS_IO_URING_REGISTER, (long) ringFd, (long) opcode,
                    arg.address(), (long) count));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap of a shared, populated mapping of fd at offset; the segment, or NULL (errno in {@link #lastErrno}). */
    public MemorySegment mmapShared(int fd, long length, long offset) {
        try {
            // PROT_READ | PROT_WRITE = 3, MAP_SHARED | MAP_POPULATE = 0x01 | 0x8000
            MemorySegment m = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, 3, 0x8001, fd, offset);
            return m.address() == -1L ? MemorySegment.NULL : m.reinterpret(length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int munmap(MemorySegment mapping) {
        try {
            return check((int) MUNMAP.invokeExact(state, mapping, mapping.byteSize()));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The errno of this gate's last failed call. */
    public int lastErrno() {
        return errno();
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }
}
