package io.coecho.runtime.net;

import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A way of doing socket I/O on event loops: epoll through FFM on Linux, java.nio elsewhere. The
 * loops, listeners and streams of one transport work only with each other.
 *
 * <p>Thread-safe; stateless apart from what each loop owns.
 */
public interface Transport {
    /** "epoll" or "nio". */
    String name();

    /** A new, not yet started loop whose poller suits this transport. */
    EventLoop newLoop(String name, int bufferSize);

    /** Whether several listeners (one per loop) may share a port, the kernel spreading connections. */
    boolean supportsReusePort();

    /**
     * Binds and listens on address for loop. Called on any thread before the loop accepts; fails at
     * once (address in use, permission) so that start-up errors are reported where they happen.
     */
    TcpListener listen(EventLoop loop, InetSocketAddress address, ListenOptions options) throws IOException;

    /** Connects to address from a coroutine on loop, suspending until connected. */
    TcpStream connect(EventLoop loop, InetSocketAddress address) throws IOException;

    /**
     * Binds a UDP socket at address for loop (port 0: any free port, as a client does). Called on any
     * thread; fails at once when the address is taken. With reusePort (SO_REUSEPORT), each loop binds
     * its own socket at the same address and the kernel spreads datagrams by source among them.
     * A dual-stack wildcard (::) also receives IPv4, whose sources then read as IPv4-mapped.
     */
    UdpSocket bindUdp(EventLoop loop, InetSocketAddress address, boolean reusePort) throws IOException;
}
