package io.coecho.runtime.linux;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listening socket on epoll. accept takes connections until the backlog is empty (EAGAIN) and only
 * then suspends: unlike the seed, which takes one per wake-up and lets its backlog starve under load.
 * After {@link #ACCEPT_BUDGET} in a row it yields a turn, so that a connection storm cannot starve
 * the connections already open.
 *
 * <p>Bound on any thread; registered with its loop's poller at the first accept, on the loop thread.
 */
final class EpollTcpListener implements TcpListener {
    static final int ACCEPT_BUDGET = 64;

    private final EpollPoller poller;
    private final int fd;
    private final InetSocketAddress local;
    private EpollRegistration reg;
    private boolean closed;
    private int acceptsInRow;

    EpollTcpListener(EpollPoller poller, int fd, InetSocketAddress local) {
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
        if (reg == null) {
            if (closed) {
                throw new java.nio.channels.ClosedChannelException();
            }
            reg = poller.register(fd);
        }
        if (++acceptsInRow > ACCEPT_BUDGET) {
            acceptsInRow = 0;
            Coroutine.yieldNow();
        }
        Syscalls sys = poller.sys();
        while (true) {
            reg.checkOpen();
            int cfd = sys.accept(fd);
            if (cfd >= 0) {
                // Echo traffic is request/response: never let Nagle hold back a small reply.
                sys.setIntOption(cfd, LinuxConstants.IPPROTO_TCP, LinuxConstants.TCP_NODELAY, 1);
                return new EpollAccepted(cfd);
            }
            if (cfd == -Errno.ECONNABORTED) {
                continue; // the peer gave up while queued: take the next one
            }
            if (cfd != -Errno.EAGAIN) {
                if (cfd == -Errno.EBADF || cfd == -Errno.ENOTSOCK || cfd == -Errno.EINVAL) {
                    // The number no longer names a listening socket: ours was closed, or shut down,
                    // or closed and the number given to another file. Closing it now could close
                    // someone else's file, so forget it instead (if it was only shut down, it leaks).
                    closed = true;
                    reg.forget();
                }
                throw new NativeException("accept4", -cfd);
            }
            acceptsInRow = 0;
            reg.awaitReadable();
        }
    }

    /** The listening descriptor, for tests that tamper with it. */
    int fd() {
        return fd;
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
        if (reg != null) {
            reg.close();
        } else {
            poller.sys().close(fd);
        }
    }
}
