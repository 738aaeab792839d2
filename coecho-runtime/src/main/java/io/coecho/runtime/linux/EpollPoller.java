package io.coecho.runtime.linux;

import static io.coecho.runtime.linux.LinuxConstants.EFD_CLOEXEC;
import static io.coecho.runtime.linux.LinuxConstants.EFD_NONBLOCK;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLET;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLIN;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLOUT;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLPRI;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLRDHUP;
import static io.coecho.runtime.linux.LinuxConstants.EPOLL_CTL_ADD;
import static io.coecho.runtime.linux.LinuxConstants.EPOLL_CTL_MOD;

import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.Poller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;

/**
 * epoll as a {@link Poller}. Every fd is added once, edge-triggered, for input (EPOLLIN | EPOLLPRI |
 * EPOLLRDHUP), and removed once, when it is closed: none of the seed's ADD-on-suspend / DEL-on-resume,
 * which costs two epoll_ctl calls per wait. Edge-triggering is safe because a coroutine waits only after its
 * syscall said EAGAIN, and any byte that arrives after that raises a new edge. Output interest is
 * added only while a write is blocked and removed when it completes (the seed's EPOLLOUT trap: a
 * socket is almost always writable, so standing interest would wake the loop for nothing).
 *
 * <p>Each event carries the fd and a generation number: an event read in the same batch as the
 * close of its fd, whose number a new connection may already have taken, is recognised as stale
 * and dropped.
 *
 * <p>Loop thread only, except {@link #wakeup()}.
 */
final class EpollPoller implements Poller {
    private static final System.Logger LOG = System.getLogger(EpollPoller.class.getName());
    private static final int MAX_EVENTS = 512;
    /** struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
    private static final boolean PACKED = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> true;
        default -> false;
    };
    private static final int EVENT_SIZE = PACKED ? 12 : 16;
    private static final int DATA_OFFSET = PACKED ? 4 : 8;
    /** EPOLLPRI: TCP urgent data, after which a short read no longer means drained (EpollRegistration). */
    private static final int READ_INTEREST = EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLET;

    private final EventLoop loop;
    private final Syscalls sys = new Syscalls();
    /** Used by other threads' wakeups only; its errno cell may be shared by them, which is harmless. */
    private final Syscalls wakeSys = new Syscalls();
    private final int epfd;
    private final int wakeFd;
    private final MemorySegment events;
    private final MemorySegment ctlEvent;
    private final MemorySegment wakeValue;
    private final MemorySegment drainValue;
    private final Object wakeLock = new Object();
    private boolean wakeClosed;
    private EpollRegistration[] byFd = new EpollRegistration[256];
    private int generation;
    /** Set when close() begins: from then on nothing registers (see close). */
    private boolean closing;

    public EpollPoller(EventLoop loop) {
        this.loop = loop;
        Arena arena = Arena.ofAuto();
        this.events = arena.allocate((long) MAX_EVENTS * EVENT_SIZE, 8);
        this.ctlEvent = arena.allocate(16, 8);
        this.wakeValue = arena.allocate(8, 8);
        this.drainValue = arena.allocate(8, 8);
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1L);
        try {
            this.epfd = Syscalls.orThrow("epoll_create1", sys.epollCreate());
            this.wakeFd = Syscalls.orThrow("eventfd", sys.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
            // The wakeup eventfd is edge-triggered too: one event per write burst, drained on dispatch.
            Syscalls.orThrow("epoll_ctl", ctl(EPOLL_CTL_ADD, wakeFd, READ_INTEREST, wakeFd));
        } catch (NativeException e) {
            throw new UncheckedIOException(e);
        }
    }

    public EventLoop loop() {
        return loop;
    }

    /** The syscall gate of this poller's loop thread. */
    public Syscalls sys() {
        return sys;
    }

    /**
     * Adds fd for input readiness. Loop thread only. Throws ClosedChannelException once the poller is
     * closing; the caller still owns fd and closes it.
     */
    EpollRegistration register(int fd) throws IOException {
        if (closing) {
            throw new ClosedChannelException();
        }
        int gen = ++generation;
        EpollRegistration reg = new EpollRegistration(this, fd, gen);
        Syscalls.orThrow("epoll_ctl", ctl(EPOLL_CTL_ADD, fd, READ_INTEREST, data(fd, gen)));
        if (fd >= byFd.length) {
            byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        }
        byFd[fd] = reg;
        return reg;
    }

    /** Adds or removes output interest. Returns 0 or -errno. */
    int interest(EpollRegistration reg, boolean output) {
        int events = output ? READ_INTEREST | EPOLLOUT : READ_INTEREST;
        return ctl(EPOLL_CTL_MOD, reg.fd, events, data(reg.fd, reg.generation));
    }

    /**
     * Drops reg from the table only: its fd may be another file's by now. (epoll removed the old
     * file's entry itself when that file was closed; if it still lives, its stale events carry a
     * generation no registration has.)
     */
    void forget(EpollRegistration reg) {
        if (byFd[reg.fd] == reg) {
            byFd[reg.fd] = null;
        }
    }

    /**
     * Removes reg and closes its fd. No EPOLL_CTL_DEL first: closing the last descriptor of a file
     * takes it out of every epoll set, and that saves a syscall per connection. Where another
     * descriptor still holds the file for a moment (a child process between fork and exec), its
     * entry lingers until that one closes, and whatever it reports carries a generation that no
     * registration has: dispatch drops it.
     */
    void deregisterAndClose(EpollRegistration reg) {
        if (byFd[reg.fd] == reg) {
            byFd[reg.fd] = null;
        }
        sys.close(reg.fd);
    }

    private static long data(int fd, int gen) {
        return ((long) gen << 32) | (fd & 0xFFFF_FFFFL);
    }

    private int ctl(int op, int fd, int events, long data) {
        ctlEvent.set(ValueLayout.JAVA_INT_UNALIGNED, 0, events);
        ctlEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, data);
        return sys.epollCtl(epfd, op, fd, ctlEvent);
    }

    @Override
    public int poll(int timeoutMillis) throws IOException {
        int n = sys.epollWait(epfd, events, MAX_EVENTS, timeoutMillis);
        if (n < 0) {
            throw new NativeException("epoll_wait", -n);
        }
        return n;
    }

    @Override
    public void dispatch(int n) {
        if (n > 1) {
            warm(n);
        }
        for (int i = 0; i < n; i++) {
            long base = (long) i * EVENT_SIZE;
            int ev = events.get(ValueLayout.JAVA_INT_UNALIGNED, base);
            long data = events.get(ValueLayout.JAVA_LONG_UNALIGNED, base + DATA_OFFSET);
            int fd = (int) data;
            if (fd == wakeFd && (data >>> 32) == 0) {
                sys.read(wakeFd, drainValue, 8);
                continue;
            }
            EpollRegistration reg = fd < byFd.length ? byFd[fd] : null;
            if (reg != null && reg.generation == (int) (data >>> 32)) {
                try {
                    reg.ready(ev);
                } catch (RuntimeException | Error e) {
                    // A coroutine's own failures end inside the coroutine; this is a runtime bug.
                    // Keep dispatching the rest of the batch rather than lose their wake-ups.
                    LOG.log(System.Logger.Level.ERROR, "loop " + loop.name() + ": dispatch for fd " + fd + " failed", e);
                }
            }
        }
    }

    /** Sink for {@link #warm}'s loads, so that the JIT keeps them. */
    private int warmth;

    /**
     * Loads, for every event of the batch, the objects its dispatch will touch first (the
     * registration, the waiting coroutine and its continuation), before dispatching any: with
     * thousands of connections they are cold, and loads of different events do not depend on each
     * other, so the processor overlaps their cache misses here instead of taking them one by one
     * between system calls.
     */
    private void warm(int n) {
        int sum = 0;
        EpollRegistration[] table = byFd;
        for (int i = 0; i < n; i++) {
            int fd = (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, (long) i * EVENT_SIZE + DATA_OFFSET);
            if (fd >= 0 && fd < table.length) {
                EpollRegistration reg = table[fd];
                if (reg != null) {
                    sum += reg.warm();
                }
            }
        }
        warmth += sum;
    }

    @Override
    public void wakeup() {
        // Locked against close(): a wake-up racing with the loop's end must not write 8 bytes into
        // whatever file or socket has taken the eventfd's number since. Uncontended and rare (only
        // when the loop sleeps), so the lock costs nothing that matters.
        synchronized (wakeLock) {
            if (!wakeClosed) {
                wakeSys.write(wakeFd, wakeValue, 8);
            }
        }
    }

    @Override
    public void close() {
        // Closing a registration wakes its coroutine at once, which may open and register another
        // socket (a client that reconnects, say), perhaps at a number this loop has passed already:
        // refused, it cannot outlive the loop.
        closing = true;
        for (EpollRegistration reg : byFd) {
            if (reg != null) {
                reg.close();
            }
        }
        synchronized (wakeLock) {
            wakeClosed = true;
            sys.close(wakeFd);
        }
        sys.close(epfd);
    }
}
