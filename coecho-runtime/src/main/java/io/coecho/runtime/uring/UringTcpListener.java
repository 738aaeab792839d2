package io.coecho.runtime.uring;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.LinuxConstants;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listening socket on io_uring. With multishot accept (IORING_ACCEPT_MULTISHOT, the default), one
 * ACCEPT stays armed while a caller waits in accept: each connection is a CQE with F_MORE (the op
 * keeps its slot), and a CQE without it ends the multishot, to be re-armed by the next accept that
 * finds nothing queued. With -Dcoecho.uring.multishotAccept=false (or a kernel that refuses it:
 * before 5.19), each accept submits a single ACCEPT and suspends until its completion.
 *
 * <p>Admission control (--max-connections: the acceptor stops calling accept at its limit, and the
 * next client must wait in the kernel's backlog) needs the multishot to stop when nobody asks: a
 * multishot accept left armed would take every connection that arrives. So whenever accept returns,
 * the listener asks the poller to look again just before the turn's io_uring_enter
 * ({@link #beforeEnter}): if no caller has come back by then, the multishot is cancelled in that same
 * enter. The echo server's acceptor comes back at once in the same turn, so the multishot stays
 * armed while it accepts; at the limit it does not, and the accept stops within the turn. What the
 * kernel accepted before the cancel landed (connections that arrived during that one turn) waits in
 * a small queue, served by the next accept, after admission.
 *
 * <p>The queue: fds accepted while nobody waits (a burst whose CQEs arrive together, or the window
 * above). At {@link #QUEUE_CAP} the multishot is cancelled (what it posts before the cancel lands is
 * still queued: a connection is never dropped) and re-armed by an accept that finds the queue empty.
 * The fds queued are closed with the listener. An accept error (EMFILE, ENFILE...) ends the multishot
 * (its CQE has no F_MORE): it is raised to the caller after the fds queued before it, and the
 * acceptor backs off as on epoll; its next accept re-arms.
 *
 * <p>Close cancels the accept in flight and closes the fd after its last completion ({@link SocketOps});
 * an fd accepted as we close is closed at once.
 *
 * <p>Bound on any thread; used and closed on its loop's thread. Lifecycle: listening → closed →
 * fd closed (no accept in flight).
 */
final class UringTcpListener implements TcpListener, Op.Owner, UringPoller.Closeable, UringPoller.BeforeEnter {
    /** Multishot accept (IORING_ACCEPT_MULTISHOT); -Dcoecho.uring.multishotAccept=false: one ACCEPT per call. */
    static final boolean MULTISHOT_ACCEPT =
            Boolean.parseBoolean(System.getProperty("coecho.uring.multishotAccept", "true"));
    /** Fds queued (accepted, nobody asking) at which the multishot is cancelled. */
    static final int QUEUE_CAP = 16;
    private static final short ACCEPT_MULTISHOT = 1;

    private final UringPoller poller;
    private final int fd;
    private final InetSocketAddress local;
    private final Op accept = new Op(this);
    private final SocketOps ops;
    private boolean multishot = MULTISHOT_ACCEPT;
    /** A multishot CQE was seen: the kernel takes the flag (an EINVAL before it means it does not). */
    private boolean multishotWorks;
    private boolean cancelling;
    private boolean checkQueued;
    /** The errno that ended the multishot, raised once the fds queued before it are taken. */
    private int error;
    private int[] queue = new int[QUEUE_CAP * 2];
    private int first;
    private int count;
    private long arms;

    UringTcpListener(UringPoller poller, int fd, InetSocketAddress local) {
        this.poller = poller;
        this.fd = fd;
        this.local = local;
        this.ops = new SocketOps(poller, this, fd, accept);
    }

    @Override
    public TcpStream accept() throws IOException {
        return acceptDetached().attach(poller.loop());
    }

    @Override
    public Accepted acceptDetached() throws IOException {
        ops.begin();
        return multishot ? acceptQueued() : acceptOne();
    }

    /** The multishot path: a queued fd, or arm and wait for one. */
    private Accepted acceptQueued() throws IOException {
        try {
            while (true) {
                ops.checkOpen();
                if (count > 0) {
                    return accepted(dequeue());
                }
                if (error != 0) {
                    int e = error;
                    error = 0;
                    if (e == Errno.EINVAL && !multishotWorks) {
                        // The kernel refused the multishot flag (before 5.19): one ACCEPT per call from now
                        // on; a listener that no longer listens says EINVAL there again.
                        multishot = false;
                        return acceptOne();
                    }
                    if (e == Errno.ECONNABORTED || e == Errno.EAGAIN) {
                        continue; // the peer gave up while queued: take the next one
                    }
                    throw new NativeException("accept", e);
                }
                if (!accept.inFlight) {
                    arm();
                }
                accept.waiter = Coroutine.require();
                try {
                    ops.checkOpen();
                    Coroutine.suspend();
                } finally {
                    accept.waiter = null;
                }
            }
        } finally {
            if (accept.inFlight && !checkQueued && !ops.closed()) {
                // The caller leaves: if it does not come back within this turn (at its limit, or given
                // up), the multishot must stop before the kernel takes more connections.
                checkQueued = true;
                poller.beforeEnter(this);
            }
        }
    }

    private void arm() {
        long sqe = poller.submit(accept, Ring.OP_ACCEPT, fd);
        poller.ring.setOpFlags(sqe, LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC);
        poller.ring.setIoprio(sqe, ACCEPT_MULTISHOT);
        cancelling = false;
        arms++;
    }

    private void cancel() {
        if (accept.inFlight && !cancelling) {
            cancelling = true;
            poller.cancel(accept);
        }
    }

    /** Just before the turn's enter: nobody came back to accept, so stop accepting (admission control). */
    @Override
    public void beforeEnter() {
        checkQueued = false;
        if (accept.waiter == null && !ops.closed()) {
            cancel();
        }
    }

    /** The single-shot path: one ACCEPT, wait for its completion. */
    private Accepted acceptOne() throws IOException {
        while (true) {
            ops.checkOpen();
            if (!accept.inFlight && !accept.done) {
                long sqe = poller.submit(accept, Ring.OP_ACCEPT, fd);
                poller.ring.setOpFlags(sqe, LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC);
            }
            int cfd = ops.await(accept);
            if (cfd >= 0) {
                return accepted(cfd);
            }
            if (cfd == -Errno.ECONNABORTED || cfd == -Errno.EAGAIN) {
                continue; // the peer gave up while queued: take the next one
            }
            throw new NativeException("accept", -cfd);
        }
    }

    private Accepted accepted(int cfd) {
        // Echo traffic is request/response: never let Nagle hold back a small reply.
        poller.sys().setIntOption(cfd, LinuxConstants.IPPROTO_TCP, LinuxConstants.TCP_NODELAY, 1);
        return new UringAccepted(cfd);
    }

    @Override
    public void completed(Op op) {
        if (!multishot) {
            if (ops.closed()) {
                int cfd = accept.take();
                if (cfd >= 0) {
                    poller.sys().close(cfd); // accepted as we closed: nobody will serve it
                }
                ops.completed();
            }
            return;
        }
        int res = accept.take(); // each CQE at once: the op stays in flight while F_MORE says so
        boolean more = accept.inFlight;
        if (more) {
            multishotWorks = true;
        }
        if (!more) {
            cancelling = false;
        }
        if (ops.closed()) {
            if (res >= 0) {
                poller.sys().close(res); // accepted as we closed: nobody will serve it
            }
            ops.completed();
            return;
        }
        if (res >= 0) {
            enqueue(res);
            if (count >= QUEUE_CAP) {
                cancel(); // nobody takes them as fast as they come: stop, re-armed once drained
            }
        } else if (res != -Errno.ECANCELED) {
            error = -res;
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public void close() {
        if (ops.closed()) {
            return;
        }
        while (count > 0) {
            poller.sys().close(dequeue()); // accepted, never taken: nobody will serve it
        }
        ops.close(() -> {
            if (accept.done && accept.res >= 0) {
                poller.sys().close(accept.take()); // accepted, never taken: nobody will serve it
            }
        });
    }

    /** For tests: fds queued, whether the accept is in flight (1 or 0), and how often it was armed. */
    long[] held() {
        return new long[] {count, accept.inFlight ? 1 : 0, arms};
    }

    private void enqueue(int cfd) {
        if (count == queue.length) {
            int[] q = new int[count * 2];
            for (int i = 0; i < count; i++) {
                q[i] = queue[(first + i) % queue.length];
            }
            queue = q;
            first = 0;
        }
        queue[(first + count) % queue.length] = cfd;
        count++;
    }

    private int dequeue() {
        int cfd = queue[first];
        first = (first + 1) % queue.length;
        count--;
        return cfd;
    }
}
