package io.coecho.runtime.net;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * A bound UDP socket whose calls read like blocking I/O: {@link #receive} suspends the calling
 * coroutine until a datagram arrives, {@link #send} while the socket's send buffer is full.
 *
 * <pre>{@code
 * PeerAddress from = new PeerAddress();
 * while (true) {
 *     int n = socket.receive(buf, from);      // suspends until a datagram arrives
 *     if (n <= buf.byteSize()) {
 *         socket.send(buf.asSlice(0, n), from); // answer whoever sent it
 *     }
 * }
 * }</pre>
 *
 * <p>Threading: use from coroutines of the loop the socket was bound for. One receiver and one
 * sender may wait at the same time. Lifecycle: bound → closed; {@link #close()} is idempotent and
 * wakes a waiting coroutine with {@link java.nio.channels.ClosedChannelException}.
 */
public interface UdpSocket extends AutoCloseable {
    /** The largest UDP payload over IPv4: 65,535 − 20 (IP header) − 8 (UDP header). */
    int MAX_IPV4_PAYLOAD = 65_507;
    /** The largest UDP payload over IPv6 without jumbograms: 65,535 − 8. */
    int MAX_IPV6_PAYLOAD = 65_527;

    /**
     * Receives the next datagram into dst and its source into from; tries the socket first and
     * suspends only if nothing is waiting. Returns the datagram's full length, which may be 0 (an
     * empty datagram is a datagram). A length greater than {@code dst.byteSize()} means the datagram
     * did not fit: dst holds its first bytes and the rest is lost, so callers compare before use.
     *
     * @throws java.nio.channels.ClosedChannelException once the socket is closed
     * @throws IOException for any other failure of the socket (rare: the next receive may succeed)
     */
    int receive(MemorySegment dst, PeerAddress from) throws IOException;

    /**
     * Sends src as one datagram to to, suspending while the send buffer is full. src must stay
     * unchanged until the call returns (it is not copied).
     *
     * @throws IOException when this datagram cannot be sent (too large, no route, firewall); the
     *     socket stays usable
     */
    void send(MemorySegment src, PeerAddress to) throws IOException;

    /** The bound address, with the actual port when bound to port 0. */
    InetSocketAddress localAddress();

    /** Closes the socket, waking any coroutine that waits on it with an exception. Idempotent. */
    @Override
    void close();
}
