package io.coecho.runtime.nio;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.UdpSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.UnsupportedAddressTypeException;

/**
 * A UDP socket on a java.nio DatagramChannel, with the epoll socket's semantics: receive and send try
 * the channel first and suspend only when it can do nothing; the Selector's interest is set only
 * while a coroutine waits ({@link NioRegistration}).
 *
 * <p>Oversize datagrams: DatagramChannel.receive silently discards what does not fit and has no
 * MSG_TRUNC, so a cut datagram would look like a shorter one. Unless dst can hold any datagram, each
 * one is received into this socket's own {@link #WHOLE} bytes, which always can; its real length is
 * returned and as much as fits is copied into dst.
 *
 * <p>Fairness: after {@link #RECEIVE_BUDGET} datagrams in a row the receiver yields its turn, so a
 * flood on this socket cannot starve the loop's TCP connections.
 *
 * <p>Bound on any thread; registered with its loop's poller on first use, on the loop thread; loop
 * thread only from then on.
 */
final class NioUdpSocket implements UdpSocket {
    /** Datagrams received in a row before the receiver yields its turn. */
    static final int RECEIVE_BUDGET = 32;
    /** More than the largest UDP payload (65,527 bytes over IPv6), so nothing is ever cut. */
    static final int WHOLE = 65_535;

    private final NioPoller poller;
    private final DatagramChannel channel;
    private final InetSocketAddress local;
    private NioRegistration reg;
    private boolean closed;
    private int receivesInRow;
    /** Made at the first receive that needs it: a socket that only sends never pays its 64 KiB. */
    private MemorySegment whole;
    private ByteBuffer wholeBuffer;

    NioUdpSocket(NioPoller poller, DatagramChannel channel, InetSocketAddress local) {
        this.poller = poller;
        this.channel = channel;
        this.local = local;
    }

    private NioRegistration registration() throws IOException {
        if (reg == null) {
            if (closed) {
                throw new ClosedChannelException();
            }
            reg = poller.register(channel);
        }
        return reg;
    }

    @Override
    public int receive(MemorySegment dst, PeerAddress from) throws IOException {
        NioRegistration r = registration();
        if (++receivesInRow > RECEIVE_BUDGET) {
            receivesInRow = 0;
            Coroutine.yieldNow();
        }
        boolean direct = dst.byteSize() >= WHOLE;
        ByteBuffer in = direct ? dst.asByteBuffer() : wholeBuffer();
        while (true) {
            r.checkOpen();
            SocketAddress sender = channel.receive(in.clear());
            if (sender != null) {
                int n = in.position();
                if (!direct) {
                    MemorySegment.copy(whole, 0, dst, 0, Math.min(n, dst.byteSize()));
                }
                // The JDK hands back the same object for the same sender as last time; from may
                // already hold it (the echo's steady state), and then need not be encoded again.
                if (from.toInetSocketAddress() != sender) {
                    from.set((InetSocketAddress) sender);
                }
                return n;
            }
            receivesInRow = 0;
            r.awaitReadable();
        }
    }

    private ByteBuffer wholeBuffer() {
        if (whole == null) {
            whole = Arena.ofAuto().allocate(WHOLE, 64);
            wholeBuffer = whole.asByteBuffer();
        }
        return wholeBuffer;
    }

    @Override
    public void send(MemorySegment src, PeerAddress to) throws IOException {
        NioRegistration r = registration();
        r.checkOpen();
        InetSocketAddress target = to.toInetSocketAddress();
        ByteBuffer out = src.asByteBuffer();
        // send returns 0 both for "no room in the send buffer" and for a sent empty datagram. An
        // empty one is therefore sent once and never waited for, or the loop below would send it
        // again at every wake-up; on a full buffer it is lost, as the network may lose any datagram.
        while (sendOnce(out, target, to) == 0 && src.byteSize() > 0) {
            // Write interest is armed for this wait only (a datagram socket is almost always
            // writable). A datagram is sent whole or not at all, so out is still whole here.
            r.awaitWritable();
        }
    }

    private int sendOnce(ByteBuffer out, InetSocketAddress target, PeerAddress to) throws IOException {
        try {
            return channel.send(out, target);
        } catch (ClosedChannelException e) {
            throw e;
        } catch (UnsupportedAddressTypeException e) {
            // An IPv6 destination from an IPv4 socket: like EAFNOSUPPORT on epoll, this datagram fails.
            throw new IOException("sendto " + to + ": address family not supported by the socket", e);
        } catch (IOException e) {
            // "Message too long" → "sendto 127.0.0.1:5000: message too long", as the epoll socket says.
            throw new IOException("sendto " + to + ": " + NioTransport.reason(e), e);
        }
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
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing to do: the port is released either way.
            }
        }
    }

    @Override
    public String toString() {
        return "udp " + NioTransport.format(local);
    }
}
