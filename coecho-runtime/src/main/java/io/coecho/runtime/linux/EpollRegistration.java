package io.coecho.runtime.linux;

import static io.coecho.runtime.linux.LinuxConstants.EPOLLERR;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLHUP;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLIN;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLOUT;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLPRI;
import static io.coecho.runtime.linux.LinuxConstants.EPOLLRDHUP;

import io.coecho.runtime.coro.Coroutine;
import java.nio.channels.ClosedChannelException;

/**
 * One fd on an {@link EpollPoller}: who waits to read, who waits to write, whether output interest
 * is armed, whether the fd is closed.
 *
 * <p>Loop thread only. After {@link #close()} the fd number belongs to the kernel again (and soon to
 * another connection), so every syscall site checks {@link #closed} first.
 */
final class EpollRegistration {
    private static final int READ_EVENTS = EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLERR | EPOLLHUP;
    private static final int WRITE_EVENTS = EPOLLOUT | EPOLLERR | EPOLLHUP;

    final EpollPoller poller;
    final int fd;
    final int generation;
    private Coroutine reader;
    private Coroutine writer;
    /**
     * False once a read found the socket empty (EAGAIN, or a short read: TCP hands over everything
     * queued, so a short read drained it, except at an urgent mark: see {@link #urgent}); true again
     * with the next input event. Lets a reader skip
     * the recv that would only say EAGAIN, which in request/response traffic is one syscall per
     * message. Input events that arrive while nobody reads are remembered here, not lost.
     */
    boolean readable = true;
    /**
     * The peer shut down its side, or the connection failed (EPOLLRDHUP, EPOLLHUP, EPOLLERR seen). A
     * short read then no longer means "drained": the EOF or error is still to be read, and no new
     * edge will announce it.
     */
    boolean inputEnded;
    /**
     * TCP urgent data arrived (EPOLLPRI) and the socket has not been read empty since. recv stops at
     * the urgent mark even with bytes queued after it, so a short read then does not mean drained:
     * those bytes were announced already and no new edge will come for them (UrgentMarkIT). Cleared
     * by EAGAIN, which does mean drained.
     */
    boolean urgent;
    private boolean writeArmed;
    boolean closed;

    EpollRegistration(EpollPoller poller, int fd, int generation) {
        this.poller = poller;
        this.fd = fd;
        this.generation = generation;
    }

    void ready(int events) {
        if ((events & READ_EVENTS) != 0) {
            readable = true;
            if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
                inputEnded = true;
            }
            if ((events & EPOLLPRI) != 0) {
                urgent = true;
            }
            if (reader != null) {
                reader.wake();
            }
        }
        if ((events & WRITE_EVENTS) != 0 && writer != null) {
            writer.wake();
        }
    }

    /** Touches what {@link #ready} will: see EpollPoller's warm. */
    int warm() {
        Coroutine r = reader;
        return r == null ? generation : r.warm();
    }

    void checkOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    /** Suspends the running coroutine until the fd may be readable (wake-ups may be spurious). */
    void awaitReadable() throws ClosedChannelException {
        checkOpen();
        Coroutine self = Coroutine.require();
        reader = self;
        try {
            Coroutine.suspend();
        } finally {
            reader = null;
        }
        checkOpen();
    }

    /** Arms output interest if needed, then suspends until the fd may be writable. */
    void awaitWritable() throws NativeException, ClosedChannelException {
        checkOpen();
        if (!writeArmed) {
            Syscalls.orThrow("epoll_ctl", poller.interest(this, true));
            writeArmed = true;
        }
        Coroutine self = Coroutine.require();
        writer = self;
        try {
            Coroutine.suspend();
        } finally {
            writer = null;
        }
        checkOpen();
    }

    /** Removes output interest once the blocked write is done. */
    void disarmWrite() {
        if (writeArmed && !closed) {
            writeArmed = false;
            poller.interest(this, false);
        }
    }

    /** Deregisters and closes the fd; waiters wake and find it closed. Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        poller.deregisterAndClose(this);
        wakeWaiters();
    }

    /**
     * Drops the fd without a syscall: for a descriptor that may no longer be ours (closed, or its
     * number taken by another file, by code elsewhere), which must not be closed again. Waiters wake
     * and find it closed. Idempotent.
     */
    void forget() {
        if (closed) {
            return;
        }
        closed = true;
        poller.forget(this);
        wakeWaiters();
    }

    private void wakeWaiters() {
        Coroutine r = reader;
        Coroutine w = writer;
        if (r != null) {
            r.wake();
        }
        if (w != null) {
            w.wake();
        }
    }
}
