package io.coecho.runtime.linux;

import static io.coecho.runtime.linux.LinuxConstants.IPPROTO_TCP;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_CLOEXEC;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_NONBLOCK;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_STREAM;
import static io.coecho.runtime.linux.LinuxConstants.SOL_SOCKET;
import static io.coecho.runtime.linux.LinuxConstants.SO_ERROR;
import static io.coecho.runtime.linux.LinuxConstants.TCP_NODELAY;

import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;

/**
 * The Linux transport: epoll and socket syscalls through FFM, no JNI and no native library.
 *
 * <p>Thread-safe and stateless; each loop owns its {@link EpollPoller}. Public only so that
 * {@link io.coecho.runtime.TransportChoice} can make one: code above the runtime chooses it there.
 */
public final class EpollTransport implements Transport {
    static {
        // Loaded now, not on the EMFILE path, where the JVM may be unable to open its jar.
        new NativeException("preload", Errno.EMFILE).errno();
    }

    /** True where this transport can run: Linux with a libc that has epoll. */
    public static boolean isAvailable() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux")) {
            return false;
        }
        try {
            Syscalls sys = new Syscalls();
            int fd = sys.epollCreate();
            if (fd < 0) {
                return false;
            }
            sys.close(fd);
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public EventLoop newLoop(String name, int bufferSize) {
        return new EventLoop(name, EpollPoller::new, bufferSize);
    }

    @Override
    public boolean supportsReusePort() {
        return true;
    }

    @Override
    public TcpListener listen(EventLoop loop, InetSocketAddress address, ListenOptions options) throws IOException {
        EpollPoller poller = poller(loop);
        Syscalls sys = new Syscalls();
        int fd = SocketSetup.listen(sys, address, options);
        try {
            return new EpollTcpListener(poller, fd, localAddress(sys, fd));
        } catch (IOException | RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    @Override
    public UdpSocket bindUdp(EventLoop loop, InetSocketAddress address, boolean reusePort) throws IOException {
        EpollPoller poller = poller(loop);
        Syscalls sys = new Syscalls();
        int fd = SocketSetup.bindUdp(sys, address, reusePort);
        try {
            return new EpollUdpSocket(poller, fd, localAddress(sys, fd));
        } catch (IOException | RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    private static InetSocketAddress localAddress(Syscalls sys, int fd) throws NativeException {
        return SocketSetup.localAddress(sys, fd);
    }

    private static int family(PeerAddress address) {
        return SocketSetup.family(address);
    }

    @Override
    public TcpStream connect(EventLoop loop, InetSocketAddress address) throws IOException {
        EpollPoller poller = poller(loop);
        Syscalls sys = poller.sys();
        PeerAddress to = PeerAddress.of(address);
        int fd = Syscalls.orThrow("socket", sys.socket(family(to), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        EpollRegistration reg;
        try {
            reg = poller.register(fd);
        } catch (IOException e) {
            sys.close(fd);
            throw e;
        }
        try {
            int r = sys.connect(fd, to.sockaddr(), to.length());
            if (r == -Errno.EINPROGRESS) {
                reg.awaitWritable();
                r = -sys.getIntOption(fd, SOL_SOCKET, SO_ERROR);
                reg.disarmWrite();
            }
            if (r != 0) {
                int errno = Math.abs(r);
                if (errno == Errno.ECONNREFUSED) {
                    throw new ConnectException("connection refused: " + format(address));
                }
                throw new NativeException("connect " + format(address), errno);
            }
            sys.setIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1);
            return new EpollTcpStream(reg);
        } catch (IOException | RuntimeException e) {
            reg.close();
            throw e;
        }
    }

    static EpollPoller poller(EventLoop loop) {
        if (loop.poller() instanceof EpollPoller p) {
            return p;
        }
        throw new IllegalArgumentException(loop + " is not an epoll loop");
    }

    static String format(InetSocketAddress a) {
        return SocketSetup.format(a);
    }
}
