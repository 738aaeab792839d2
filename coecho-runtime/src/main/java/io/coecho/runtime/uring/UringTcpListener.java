package io.coecho.runtime.uring;

import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.LinuxConstants;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listening socket on io_uring: accept submits an ACCEPT and suspends until its completion. A
 * connection accepted after its waiter gave up (interrupted) is kept for the next accept, or closed
 * with the listener; close cancels the accept in flight and closes the fd after its completion
 * ({@link SocketOps}).
 *
 * <p>Bound on any thread; used and closed on its loop's thread. Lifecycle: listening → closed →
 * fd closed (no accept in flight).
 */
final class UringTcpListener implements TcpListener, Op.Owner, UringPoller.Closeable {
    private final UringPoller poller;
    private final int fd;
    private final InetSocketAddress local;
    private final Op accept = new Op(this);
    private final SocketOps ops;

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
        while (true) {
            ops.checkOpen();
            if (!accept.inFlight && !accept.done) {
                long sqe = poller.submit(accept, Ring.OP_ACCEPT, fd);
                poller.ring.setOpFlags(sqe, LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC);
            }
            int cfd = ops.await(accept);
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

    @Override
    public void completed(Op op) {
        if (ops.closed()) {
            int cfd = accept.take();
            if (cfd >= 0) {
                poller.sys().close(cfd); // accepted as we closed: nobody will serve it
            }
            ops.completed();
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public void close() {
        ops.close(() -> {
            if (accept.done && accept.res >= 0) {
                poller.sys().close(accept.take()); // accepted, never taken: nobody will serve it
            }
        });
    }
}
