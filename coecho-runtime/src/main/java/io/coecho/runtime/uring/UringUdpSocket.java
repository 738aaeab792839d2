package io.coecho.runtime.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.LinuxConstants;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.linux.SocketSetup;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.UdpSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * A UDP socket on io_uring: receive submits an IORING_OP_RECVMSG and suspends until its completion,
 * send an IORING_OP_SENDMSG; one datagram per op, at most one of each in flight. The contract is
 * epoll's ({@code EpollUdpSocket}): the datagram's full length (MSG_TRUNC), its source in the
 * caller's {@link PeerAddress}, a failed datagram an exception that leaves the socket usable (an ICMP
 * error reported as ECONNREFUSED included), ClosedChannelException once closed.
 *
 * <p>What the kernel reads or writes after submission is the socket's own, made once at bind and
 * never handed back while an op is in flight (the coroutine may have moved on, the caller's buffer
 * may be the loop's shared scratch): a datagram is received into {@code recvBuf} and copied out, sent
 * from a copy in {@code sendBuf}; the two msghdrs, iovecs and sockaddrs live here:
 * <pre>
 *   0           56  64        80        96           152 160             288             416
 *   | recv msghdr |  | recv iov | send iov | send msghdr |  | recv sockaddr | send sockaddr |
 * </pre>
 * recvmsg writes the source address and its length and msg_flags back into the msghdr at its
 * completion, so the memory must outlive every submission: the ops reach this object (Op's owner)
 * from the poller's table until they complete, which keeps the automatic arenas alive.
 *
 * <p>Kept armed: once a receive has taken its datagram (copied out), the next recvmsg is submitted at
 * once, so that it travels in the same io_uring_enter as the echo's sendmsg: one loop turn per
 * datagram rather than two. A datagram it takes while nobody receives waits in {@code recvBuf} for
 * the next receive, as one taken by a receive that gave up (a timeout) does. No receive budget is
 * needed, unlike epoll: a completion is dispatched only in a loop turn, so no receiver can take two
 * datagrams without the rest of the loop running in between.
 *
 * <p>Close: cancel what is in flight, close the fd after the last completion, so that its number is
 * never reused while the kernel may still act on it; user_data's generation keeps a late completion
 * from reaching a later socket ({@link UringPoller#dispatch}); {@link SocketOps} does both.
 *
 * <p>Bound on any thread; tracked by the poller and used on its loop's thread from the first receive
 * or send on (its loop's coroutines: one receiver and one sender). Lifecycle: bound → closed (waiters
 * woken with ClosedChannelException) → fd closed (no op in flight).
 */
final class UringUdpSocket implements UdpSocket, Op.Owner, UringPoller.Closeable {
    /** The receive buffer's size: it holds any UDP payload (65,507 bytes over IPv4, 65,527 over IPv6). */
    static final int RECEIVE_CAPACITY = 65_536;
    /** No UDP datagram is larger (the length field has 16 bits): a larger send fails at once. */
    private static final int MAX_SEND = 65_536;
    private static final int SOCKADDR_SIZE = 128;
    // struct msghdr (LP64): name, namelen, iov, iovlen, control, controllen, flags.
    private static final long MSG_NAME = 0;
    private static final long MSG_NAMELEN = 8;
    private static final long MSG_IOV = 16;
    private static final long MSG_IOVLEN = 24;
    private static final long MSG_FLAGS = 48;

    private final UringPoller poller;
    final int fd;
    private final InetSocketAddress local;
    private final Op recv = new Op(this);
    private final Op send = new Op(this);
    private final MemorySegment recvHdr;
    private final MemorySegment sendHdr;
    private final MemorySegment sendIov;
    private final MemorySegment recvName;
    private final MemorySegment sendName;
    private final MemorySegment recvBuf;
    /** Grown to the largest datagram sent; replaced only while no sendmsg is in flight. */
    private MemorySegment sendBuf;
    private final SocketOps ops;

    UringUdpSocket(UringPoller poller, int fd, InetSocketAddress local) {
        this.poller = poller;
        this.fd = fd;
        this.local = local;
        this.ops = new SocketOps(poller, this, fd, recv, send);
        Arena arena = Arena.ofAuto();
        MemorySegment block = arena.allocate(416, 8);
        this.recvHdr = block.asSlice(0, 56);
        MemorySegment recvIov = block.asSlice(64, 16);
        this.sendIov = block.asSlice(80, 16);
        this.sendHdr = block.asSlice(96, 56);
        this.recvName = block.asSlice(160, SOCKADDR_SIZE);
        this.sendName = block.asSlice(288, SOCKADDR_SIZE);
        this.recvBuf = arena.allocate(RECEIVE_CAPACITY, 64);
        recvIov.set(JAVA_LONG, 0, recvBuf.address());
        recvIov.set(JAVA_LONG, 8, RECEIVE_CAPACITY);
        recvHdr.set(JAVA_LONG, MSG_NAME, recvName.address());
        recvHdr.set(JAVA_LONG, MSG_IOV, recvIov.address());
        recvHdr.set(JAVA_LONG, MSG_IOVLEN, 1);
        sendHdr.set(JAVA_LONG, MSG_NAME, sendName.address());
        sendHdr.set(JAVA_LONG, MSG_IOV, sendIov.address());
        sendHdr.set(JAVA_LONG, MSG_IOVLEN, 1);
    }

    @Override
    public int receive(MemorySegment dst, PeerAddress from) throws IOException {
        ops.begin();
        boolean pollFirst = false;
        while (true) {
            if (!recv.inFlight && !recv.done) {
                submitRecv(pollFirst);
            }
            int r = ops.await(recv);
            if (r >= 0) {
                int n = deliver(r, dst, from);
                submitRecv(false); // the buffers are free again: keep one recvmsg armed
                return n;
            }
            if (r != -Errno.EAGAIN) {
                throw new NativeException("recvmsg", -r);
            }
            // io_uring waits for a datagram itself; should one still say EAGAIN, wait for it first.
            pollFirst = true;
        }
    }

    private void submitRecv(boolean pollFirst) {
        recvHdr.set(JAVA_INT, MSG_NAMELEN, SOCKADDR_SIZE);
        recvHdr.set(JAVA_INT, MSG_FLAGS, 0);
        long sqe = poller.submit(recv, Ring.OP_RECVMSG, fd);
        poller.ring.setAddr(sqe, recvHdr.address());
        poller.ring.setLen(sqe, 1);
        // MSG_TRUNC: the result is the datagram's full length even when it did not fit, as on epoll.
        poller.ring.setOpFlags(sqe, LinuxConstants.MSG_TRUNC);
        if (pollFirst) {
            poller.ring.setIoprio(sqe, Ring.RECVSEND_POLL_FIRST);
        }
    }

    /** Copies a received datagram of full length n and its source out to the caller; returns n. */
    private int deliver(int n, MemorySegment dst, PeerAddress from) {
        int nameLength = Math.min(recvHdr.get(JAVA_INT, MSG_NAMELEN), SOCKADDR_SIZE);
        from.prepareReceive();
        MemorySegment.copy(recvName, 0, from.sockaddr(), 0, nameLength);
        from.lengthCell().set(JAVA_INT, 0, nameLength);
        long room = dst.byteSize();
        MemorySegment.copy(recvBuf, 0, dst, 0, Math.min(Math.min(n, RECEIVE_CAPACITY), room));
        if ((recvHdr.get(JAVA_INT, MSG_FLAGS) & LinuxConstants.MSG_TRUNC) != 0 && n <= room) {
            // Cut by our buffer, not by dst (only an IPv6 jumbogram could be that large): never pass
            // it off as whole. A length beyond dst is what callers drop as oversize.
            return (int) Math.min(room + 1, Integer.MAX_VALUE);
        }
        return n;
    }

    @Override
    public void send(MemorySegment src, PeerAddress to) throws IOException {
        ops.begin();
        long len = src.byteSize();
        if (len > MAX_SEND) {
            throw new NativeException("sendmsg " + to, Errno.EMSGSIZE);
        }
        if (send.inFlight || send.done) {
            // A send given up in flight (a timeout): its buffers are the kernel's until it completes.
            ops.await(send);
        }
        if (sendBuf == null || sendBuf.byteSize() < len) {
            int size = Math.max(2048, Integer.highestOneBit((int) Math.max(len - 1, 1)) << 1);
            sendBuf = Arena.ofAuto().allocate(size, 64);
        }
        MemorySegment.copy(src, 0, sendBuf, 0, len);
        int nameLength = Math.min(to.length(), SOCKADDR_SIZE);
        MemorySegment.copy(to.sockaddr(), 0, sendName, 0, nameLength);
        sendHdr.set(JAVA_INT, MSG_NAMELEN, nameLength);
        sendIov.set(JAVA_LONG, 0, sendBuf.address());
        sendIov.set(JAVA_LONG, 8, len);
        short ioprio = 0;
        while (true) {
            long sqe = poller.submit(send, Ring.OP_SENDMSG, fd);
            poller.ring.setAddr(sqe, sendHdr.address());
            poller.ring.setLen(sqe, 1);
            poller.ring.setOpFlags(sqe, LinuxConstants.MSG_NOSIGNAL);
            poller.ring.setIoprio(sqe, ioprio);
            int r = ops.await(send);
            if (r >= 0) {
                return; // a datagram is sent whole or not at all
            }
            if (r != -Errno.EAGAIN) {
                throw new NativeException("sendmsg " + to, -r);
            }
            // io_uring waits for room itself; should it still say EAGAIN, wait for room first.
            ioprio = Ring.RECVSEND_POLL_FIRST;
        }
    }

    @Override
    public void completed(Op op) {
        if (ops.closed()) {
            op.take(); // nobody will take it: a datagram received as we closed is dropped
            ops.completed();
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    /** Whether the fd itself is closed yet (after close and the last completion). */
    boolean fdClosed() {
        return ops.fdClosed();
    }

    @Override
    public void close() {
        ops.close(() -> { }); // nothing to give back: the buffers are the socket's own
    }

    @Override
    public String toString() {
        return "udp fd=" + fd + " " + SocketSetup.format(local) + " (io_uring)";
    }
}
