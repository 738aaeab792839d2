package io.coecho.runtime.nio;

import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Locale;

/**
 * The portable transport: java.nio Selectors and socket channels, for any OS the JDK runs on, with
 * the same behaviour as the epoll transport (same fast paths, budgets, buffers and error messages).
 *
 * <p>Thread-safe and stateless; each loop owns its {@link NioPoller}. Public only so that
 * {@link io.coecho.runtime.TransportChoice} can make one: code above the runtime chooses it there.
 */
public final class NioTransport implements Transport {
    @Override
    public String name() {
        return "nio";
    }

    @Override
    public EventLoop newLoop(String name, int bufferSize) {
        return new EventLoop(name, NioPoller::new, bufferSize);
    }

    @Override
    public boolean supportsReusePort() {
        return ReusePort.SUPPORTED;
    }

    @Override
    public TcpListener listen(EventLoop loop, InetSocketAddress address, ListenOptions options) throws IOException {
        NioPoller poller = poller(loop);
        // The address's own family, like the epoll transport: an IPv4 address gets an IPv4 socket,
        // where the JDK's default (dual-stack IPv6) would widen 0.0.0.0 to every IPv6 address too.
        ServerSocketChannel channel = ServerSocketChannel.open(family(address));
        try {
            channel.configureBlocking(false);
            // SO_REUSEADDR: a restarted server can bind while old connections sit in TIME_WAIT.
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (options.reusePort() && supportsReusePort()) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            try {
                channel.bind(address, options.backlog());
            } catch (BindException e) {
                throw bindFailed("", address, e);
            }
            return new NioTcpListener(poller, channel, (InetSocketAddress) channel.getLocalAddress());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public TcpStream connect(EventLoop loop, InetSocketAddress address) throws IOException {
        NioPoller poller = poller(loop);
        SocketChannel channel = SocketChannel.open(family(address));
        NioRegistration reg;
        try {
            channel.configureBlocking(false);
            reg = poller.register(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        try {
            try {
                if (!channel.connect(address)) {
                    do {
                        reg.awaitConnectable();
                    } while (!channel.finishConnect());
                }
            } catch (ConnectException e) {
                String m = e.getMessage();
                if (m != null && m.toLowerCase(Locale.ROOT).contains("refused")) {
                    throw new ConnectException("connection refused: " + format(address));
                }
                throw e;
            }
            try {
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                // A peer that already reset: the first read or write will say so.
            }
            return new NioTcpStream(reg);
        } catch (IOException | RuntimeException e) {
            reg.close();
            throw e;
        }
    }

    @Override
    public UdpSocket bindUdp(EventLoop loop, InetSocketAddress address, boolean reusePort) throws IOException {
        NioPoller poller = poller(loop);
        // The address's own family, as for TCP. An IPv6 socket from the JDK is dual-stack
        // (IPV6_V6ONLY off), so :: also receives IPv4, as the epoll transport's does.
        DatagramChannel channel = DatagramChannel.open(family(address));
        try {
            channel.configureBlocking(false);
            // No SO_REUSEADDR: UDP has no TIME_WAIT, and on UDP it would let a second socket share
            // the port silently.
            if (reusePort && channel.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            try {
                channel.bind(address);
            } catch (BindException e) {
                throw bindFailed("udp ", address, e);
            }
            return new NioUdpSocket(poller, channel, (InetSocketAddress) channel.getLocalAddress());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** "Address already in use" → "cannot bind udp 0.0.0.0:8080: address already in use". */
    private static BindException bindFailed(String what, InetSocketAddress address, BindException e) {
        BindException b = new BindException("cannot bind " + what + format(address) + ": " + reason(e));
        b.initCause(e);
        return b;
    }

    /** The JDK's message for an OS error in lower case, as the epoll transport words it. */
    static String reason(IOException e) {
        return e.getMessage() == null ? "failed" : e.getMessage().toLowerCase(Locale.ROOT);
    }

    static NioPoller poller(EventLoop loop) {
        if (loop.poller() instanceof NioPoller p) {
            return p;
        }
        throw new IllegalArgumentException(loop + " is not a nio loop");
    }

    private static ProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    static String format(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Whether this platform's ServerSocketChannel has SO_REUSEPORT: asked once, on first use. */
    private static final class ReusePort {
        static final boolean SUPPORTED = probe();

        private static boolean probe() {
            try (ServerSocketChannel probe = ServerSocketChannel.open()) {
                return probe.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT);
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
    }
}
