package io.coecho.server.coroutine;

import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.SocketFailure;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A real transport whose first listener fails accept as the test says, with what that transport
 * would throw: the errors a kernel can raise but a test cannot provoke (a security module's EPERM,
 * a listener that no longer listens). The failure comes before the socket is touched, as a security
 * module's check does, so the connections stay queued. Everything else is the real transport's.
 *
 * <p>Thread-safe as the real transport; each listener is used by its loop only.
 */
final class FaultyTransport implements Transport {
    private final Transport real;
    private final String errno;
    private final String message;
    private final int failures;
    private int listeners;

    /**
     * real's first listener fails its first failures accepts with errno (epoll) or message (nio,
     * which reports errnos as strerror text); Integer.MAX_VALUE: for ever.
     */
    FaultyTransport(Transport real, String errno, String message, int failures) {
        this.real = real;
        this.errno = errno;
        this.message = message;
        this.failures = failures;
    }

    @Override
    public String name() {
        return real.name();
    }

    @Override
    public EventLoop newLoop(String name, int bufferSize) {
        return real.newLoop(name, bufferSize);
    }

    @Override
    public boolean supportsReusePort() {
        return real.supportsReusePort();
    }

    @Override
    public synchronized TcpListener listen(EventLoop loop, InetSocketAddress address, ListenOptions options)
            throws IOException {
        TcpListener l = real.listen(loop, address, options);
        return listeners++ == 0 ? new Listener(l) : l;
    }

    @Override
    public TcpStream connect(EventLoop loop, InetSocketAddress address) throws IOException {
        return real.connect(loop, address);
    }

    @Override
    public UdpSocket bindUdp(EventLoop loop, InetSocketAddress address, boolean reusePort) throws IOException {
        return real.bindUdp(loop, address, reusePort);
    }

    private IOException fault() {
        // As the epoll transport reports it: a SocketFailure carrying the errno's name.
        return real.name().equals("epoll")
                ? new SocketFailure("accept4: " + errno, SocketFailure.Category.OTHER, errno) {}
                : new IOException(message);
    }

    /** The failing listener. Its loop's thread only. */
    private final class Listener implements TcpListener {
        private final TcpListener real;
        private int failuresLeft = failures;

        Listener(TcpListener real) {
            this.real = real;
        }

        @Override
        public TcpStream accept() throws IOException {
            failIfDue();
            return real.accept();
        }

        @Override
        public Accepted acceptDetached() throws IOException {
            failIfDue();
            return real.acceptDetached();
        }

        private void failIfDue() throws IOException {
            if (failuresLeft > 0) {
                if (failuresLeft != Integer.MAX_VALUE) {
                    failuresLeft--;
                }
                throw fault();
            }
        }

        @Override
        public InetSocketAddress localAddress() {
            return real.localAddress();
        }

        @Override
        public void close() {
            real.close();
        }
    }
}
