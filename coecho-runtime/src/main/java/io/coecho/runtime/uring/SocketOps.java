package io.coecho.runtime.uring;

import io.coecho.runtime.coro.Coroutine;
import java.nio.channels.ClosedChannelException;

/**
 * A socket's operations on the ring and the end of its fd, one piece of code for every io_uring socket
 * (stream, listener, UDP): a waiter suspends until its op completes, and close cancels every op in
 * flight on the fd and closes the fd only after the last completion.
 *
 * <p>Why the fd outlives close: the number is ours until the kernel is done with it. Closed at once,
 * it could be reused by a new socket at the next accept, and the cancel by fd (or a recv still
 * armed) would then act on the new one; user_data's generation guards the completions, not the fd.
 *
 * <p>Loop thread only (its socket's). Lifecycle: open → closed (ops cancelled, waiters woken with
 * ClosedChannelException) → fd closed (after the last completion, or at once with nothing in flight).
 */
final class SocketOps {
    private final UringPoller poller;
    private final UringPoller.Closeable socket;
    private final int fd;
    private final Op[] ops;
    private boolean tracked;
    private boolean closed;
    private boolean fdClosed;

    /** The ops of socket on fd; each has socket as its owner, which calls {@link #completed}. */
    SocketOps(UringPoller poller, UringPoller.Closeable socket, int fd, Op... ops) {
        this.poller = poller;
        this.socket = socket;
        this.fd = fd;
        this.ops = ops;
    }

    /**
     * For a socket bound on any thread, at its first use on the loop thread: from then on the poller
     * closes it at its end; closed at once (and this throws) if the poller is closing already.
     */
    void begin() throws ClosedChannelException {
        if (!tracked && !closed) {
            tracked = true;
            if (!poller.track(socket)) {
                socket.close();
            }
        }
        checkOpen();
    }

    boolean closed() {
        return closed;
    }

    /** Whether the fd itself is closed yet (after close and the last completion). */
    boolean fdClosed() {
        return fdClosed;
    }

    void checkOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    /**
     * Suspends until op completes (at once if it has) and takes its result. Throws if the socket is
     * closed meanwhile or the coroutine is interrupted: the op then stays in flight, and its
     * completion is kept for the next call or released by the socket's owner callback.
     */
    int await(Op op) throws ClosedChannelException {
        op.waiter = Coroutine.require();
        try {
            while (op.inFlight) {
                checkOpen();
                Coroutine.suspend();
            }
        } finally {
            op.waiter = null;
        }
        checkOpen();
        return op.take();
    }

    /**
     * Closes the socket; false if it was closed already. With ops in flight they are all cancelled
     * and the fd closes at the last completion ({@link #completed}); with none, idle gives back what
     * the finished ops still hold and the fd closes now. Then every waiter wakes (and throws).
     */
    boolean close(Runnable idle) {
        if (closed) {
            return false;
        }
        closed = true;
        poller.untrack(socket);
        if (anyInFlight()) {
            poller.cancelAll(fd);
        } else {
            idle.run();
            closeFdIfIdle();
        }
        for (Op op : ops) {
            Coroutine w = op.waiter;
            if (w != null) {
                w.wake();
            }
        }
        return true;
    }

    /** After each completion of the socket's ops: once closed, the last of them closes the fd. */
    void completed() {
        if (closed) {
            closeFdIfIdle();
        }
    }

    private void closeFdIfIdle() {
        if (!fdClosed && !anyInFlight()) {
            fdClosed = true;
            poller.sys().close(fd);
        }
    }

    private boolean anyInFlight() {
        for (Op op : ops) {
            if (op.inFlight) {
                return true;
            }
        }
        return false;
    }
}
