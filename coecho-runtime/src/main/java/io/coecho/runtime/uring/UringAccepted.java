package io.coecho.runtime.uring;

import io.coecho.runtime.linux.Syscalls;
import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;

/**
 * An accepted fd on its way to the loop that will serve it; only a number until attached, so
 * handing it across threads is safe.
 */
final class UringAccepted implements Accepted {
    private final int fd;

    UringAccepted(int fd) {
        this.fd = fd;
    }

    @Override
    public TcpStream attach(EventLoop loop) throws IOException {
        UringPoller poller = UringTransport.poller(loop);
        try {
            return new UringTcpStream(poller, fd);
        } catch (IOException e) {
            poller.sys().close(fd);
            throw e;
        }
    }

    @Override
    public void close() {
        new Syscalls().close(fd);
    }
}
