package io.coecho.runtime.linux;

import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;

/**
 * An accepted fd on its way to the loop that will serve it: registered with that loop's epoll
 * instance when attached. The fd is only a number until then, so handing it across threads is safe.
 */
final class EpollAccepted implements Accepted {
    private final int fd;

    EpollAccepted(int fd) {
        this.fd = fd;
    }

    @Override
    public TcpStream attach(EventLoop loop) throws IOException {
        EpollPoller poller = EpollTransport.poller(loop);
        try {
            return new EpollTcpStream(poller.register(fd));
        } catch (IOException e) {
            poller.sys().close(fd);
            throw e;
        }
    }

    @Override
    public void close() {
        // Rare (a draining server, a failed hand-off): a syscall gate of its own is fine here.
        new Syscalls().close(fd);
    }
}
