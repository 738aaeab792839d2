package io.coecho.runtime.uring;

import io.coecho.runtime.linux.LinuxConstants;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.linux.SocketSetup;
import io.coecho.runtime.linux.Syscalls;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The io_uring transport: completion-based accept, recv and send (recvmsg and sendmsg for UDP) on one
 * ring per loop, through FFM (io_uring_setup and io_uring_enter by syscall(2), the rings mmap'ed), no
 * JNI and no native library.
 * The sockets themselves are made as the epoll transport makes them ({@link SocketSetup}).
 *
 * <p>Thread-safe and stateless; each loop owns its {@link UringPoller}. Public only so that
 * {@link io.coecho.runtime.TransportChoice} can make one.
 */
public final class UringTransport implements Transport {
    /**
     * Why io_uring cannot run here (io_uring_setup's errno: ENOSYS on old kernels, EPERM where
     * kernel.io_uring_disabled or a seccomp filter forbids it), or null where it can.
     */
    public static String unavailableReason() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
            return "io_uring needs Linux";
        }
        try {
            Syscalls sys = new Syscalls();
            new Ring(sys, 2, 4, false).close();
            return null;
        } catch (NativeException e) {
            return e.getMessage();
        } catch (Throwable t) {
            return t.toString();
        }
    }

    @Override
    public String name() {
        return "io_uring";
    }

    @Override
    public EventLoop newLoop(String name, int bufferSize) {
        return new EventLoop(name, UringPoller::new, bufferSize);
    }

    @Override
    public boolean supportsReusePort() {
        return true;
    }

    @Override
    public TcpListener listen(EventLoop loop, InetSocketAddress address, ListenOptions options) throws IOException {
        UringPoller poller = poller(loop);
        Syscalls sys = new Syscalls();
        int fd = SocketSetup.listen(sys, address, options);
        try {
            return new UringTcpListener(poller, fd, SocketSetup.localAddress(sys, fd));
        } catch (IOException | RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    @Override
    public TcpStream connect(EventLoop loop, InetSocketAddress address) throws IOException {
        UringPoller poller = poller(loop);
        Syscalls sys = poller.sys();
        PeerAddress to = PeerAddress.of(address);
        int fd = Syscalls.orThrow("socket", sys.socket(SocketSetup.family(to),
                LinuxConstants.SOCK_STREAM | LinuxConstants.SOCK_NONBLOCK | LinuxConstants.SOCK_CLOEXEC, 0));
        UringTcpStream stream;
        try {
            stream = new UringTcpStream(poller, fd);
        } catch (IOException e) {
            sys.close(fd);
            throw e;
        }
        try {
            stream.connect(to);
            sys.setIntOption(fd, LinuxConstants.IPPROTO_TCP, LinuxConstants.TCP_NODELAY, 1);
            return stream;
        } catch (IOException | RuntimeException e) {
            stream.close();
            if (e instanceof java.net.ConnectException) {
                throw new java.net.ConnectException("connection refused: " + SocketSetup.format(address));
            }
            throw e;
        }
    }

    @Override
    public UdpSocket bindUdp(EventLoop loop, InetSocketAddress address, boolean reusePort) throws IOException {
        UringPoller poller = poller(loop);
        Syscalls sys = new Syscalls();
        int fd = SocketSetup.bindUdp(sys, address, reusePort);
        try {
            return new UringUdpSocket(poller, fd, SocketSetup.localAddress(sys, fd));
        } catch (IOException | RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    static UringPoller poller(EventLoop loop) {
        if (loop.poller() instanceof UringPoller p) {
            return p;
        }
        throw new IllegalArgumentException(loop + " is not an io_uring loop");
    }
}
