package io.coecho.runtime.linux;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.UdpSocket;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * A UDP socket on epoll. receive and send try the syscall first and suspend only on EAGAIN, like
 * {@link EpollTcpStream}; the source address goes straight from recvfrom into the caller's
 * {@link PeerAddress} and back out through sendto, so a datagram costs two syscalls and no garbage.
 *
 * <p>recvfrom runs with MSG_TRUNC, so it returns a datagram's real length even when dst is smaller:
 * an oversize datagram is seen and counted, never mistaken for a shorter one.
 *
 * <p>Fairness: after {@link #RECEIVE_BUDGET} datagrams in a row the receiver yields its turn, so a
 * flood on this socket cannot starve the loop's TCP connections.
 *
 * <p>Bound on any thread; registered with its loop's poller on first use, on the loop thread; loop
 * thread only from then on.
 */
final class EpollUdpSocket implements UdpSocket {
    /** Datagrams received in a row before the receiver yields its turn. */
    static final int RECEIVE_BUDGET = 32;

    private final EpollPoller poller;
    private final Syscalls sys;
    private final int fd;
    private final InetSocketAddress local;
    private EpollRegistration reg;
    private boolean closed;
    private int receivesInRow;

    EpollUdpSocket(EpollPoller poller, int fd, InetSocketAddress local) {
        this.poller = poller;
        this.sys = poller.sys();
        this.fd = fd;
        this.local = local;
    }

    private EpollRegistration registration() throws IOException {
        if (reg == null) {
            if (closed) {
                throw new java.nio.channels.ClosedChannelException();
            }
            reg = poller.register(fd);
        }
        return reg;
    }

    @Override
    public int receive(MemorySegment dst, PeerAddress from) throws IOException {
        EpollRegistration r = registration();
        if (++receivesInRow > RECEIVE_BUDGET) {
            receivesInRow = 0;
            Coroutine.yieldNow();
        }
        while (true) {
            r.checkOpen();
            from.prepareReceive();
            long n = sys.recvFrom(fd, dst, dst.byteSize(), LinuxConstants.MSG_TRUNC, from.sockaddr(), from.lengthCell());
            if (n >= 0) {
                return (int) n;
            }
            if (n != -Errno.EAGAIN) {
                throw new NativeException("recvfrom", (int) -n);
            }
            receivesInRow = 0;
            r.awaitReadable();
        }
    }

    @Override
    public void send(MemorySegment src, PeerAddress to) throws IOException {
        EpollRegistration r = registration();
        r.checkOpen();
        long n = sys.sendTo(fd, src, src.byteSize(), to.sockaddr(), to.length());
        if (n >= 0) {
            return;
        }
        if (n != -Errno.EAGAIN) {
            throw new NativeException("sendto " + to, (int) -n);
        }
        try {
            // The send buffer is full: wait for room. A datagram is sent whole or not at all.
            while (true) {
                r.awaitWritable();
                n = sys.sendTo(fd, src, src.byteSize(), to.sockaddr(), to.length());
                if (n >= 0) {
                    return;
                }
                if (n != -Errno.EAGAIN) {
                    throw new NativeException("sendto " + to, (int) -n);
                }
            }
        } finally {
            r.disarmWrite();
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
            sys.close(fd);
        }
    }

    @Override
    public String toString() {
        return "udp fd=" + fd + " " + EpollTransport.format(local);
    }
}
