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
import java.nio.channels.ClosedChannelException;

/**
 * A listening socket on io_uring: accept submits an ACCEPT and suspends until its completion. A
 * connection accepted after its waiter gave up (interrupted) is kept for the next accept, or closed
 * with the listener; close cancels the accept in flight and closes the fd after its completion.
 *
 * <p>Bound on any thread; used and closed on its loop's thread. Lifecycle: listening → closed →
 * fd closed (no accept in flight).
 */
final class UringTcpListener implements TcpListener, Op.Owner, UringPoller.Closeable {
    private final UringPoller poller;
    private final int fd;
    private final InetSocketAddress local;
    private final Op accept = new Op(this);
    private boolean tracked;
    private boolean closed;
    private boolean fdClosed;

    UringTcpListener(UringPoller poller, int fd, InetSocketAddress local) {
        this.poller = poller;
        this.fd = fd;
        this.local = local;
    }

    @Override
    public TcpStream accept() throws IOException {
        return acceptDetached().attach(poller.loop());
    }

    @Override
    public Accepted acceptDetached() throws IOException {
        if (!tracked && !closed) {
            tracked = true;
            if (!poller.track(this)) {
                close();
            }
        }
        while (true) {
            checkOpen();
            if (!accept.inFlight && !accept.done) {
                long sqe = poller.submit(accept, Ring.OP_ACCEPT, fd);
                poller.ring.setOpFlags(sqe, LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC);
            }
            int cfd = await();
            if (cfd >= 0) {
                // Echo traffic is request/response: never let Nagle hold back a small reply.
                poller.sys().setIntOption(cfd, LinuxConstants.IPPROTO_TCP, LinuxConstants.TCP_NODELAY, 1);
                return new UringAccepted(cfd);
            }
            if (cfd == -Errno.ECONNABORTED || cfd == -Errno.EAGAIN) {
                continue; // the peer gave up while queued: take the next one
            }
            throw new NativeException("accept", -cfd);
        }
    }

    private int await() throws ClosedChannelException {
        accept.waiter = Coroutine.require();
        try {
            while (accept.inFlight) {
                checkOpen();
                Coroutine.suspend();
            }
        } finally {
            accept.waiter = null;
        }
        checkOpen();
        return accept.take();
    }

    @Override
    public void completed(Op op) {
        if (closed) {
            int cfd = accept.take();
            if (cfd >= 0) {
                poller.sys().close(cfd); // accepted as we closed: nobody will serve it
            }
            closeFd();
        }
    }

    private void checkOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        poller.untrack(this);
        if (accept.inFlight) {
            poller.cancelAll(fd);
        } else {
            if (accept.done && accept.res >= 0) {
                poller.sys().close(accept.take());
            }
            closeFd();
        }
        if (accept.waiter != null) {
            accept.waiter.wake();
        }
    }

    private void closeFd() {
        if (!fdClosed && !accept.inFlight) {
            fdClosed = true;
            poller.sys().close(fd);
        }
    }
}
