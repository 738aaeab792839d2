package io.coecho.runtime.uring;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.LinuxConstants;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.linux.Syscalls;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.BufferPool;
import io.coecho.runtime.reactor.UnsentBytes;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.Objects;

/**
 * A TCP connection on io_uring: a read takes what its multishot recv queued ({@link MultishotRecv},
 * armed while the connection reads, filling buffers of the loop's shared {@link BufferRing}) and
 * suspends while nothing is queued; write submits a SEND and suspends until the kernel took every
 * byte. At most one recv and one send are in flight.
 *
 * <p>With -Dcoecho.uring.multishot=false (or no buffer ring), each read is a single-shot RECV: the
 * kernel fills a recv buffer after the reader suspended, so the recv goes into a buffer of the
 * poller's stock and is copied out to the caller's (which may be the loop's shared scratch); that
 * buffer is held while the connection waits, so memory follows connections, not data. A send is
 * copied to a stock buffer before it is submitted, for the same reason. A buffer goes back only at
 * its op's completion, also when the caller gave up waiting (a timeout, a close).
 *
 * <p>Why copy out of the ring buffer rather than hand it to the caller: the contract stays "fill my
 * segment" for every transport, the copy is one memcpy of what a syscall just moved, and a handed-out
 * buffer would need a release call that every caller must get right or drain the shared ring.
 *
 * <p>Back-pressure as on epoll: the first send carries MSG_DONTWAIT, so a full socket buffer comes
 * back as EAGAIN or a short count; only then is the write a wait ({@link UnsentBytes}: counted in the
 * loop's stats) and the rest is sent without it. The echo loop reads nothing more meanwhile, and
 * the multishot recv is cancelled ({@link MultishotRecv#pause}): see there for why a slow reader
 * holds bounded memory.
 *
 * <p>Close: cancel first, close the fd after the last completion. The fd number stays ours until
 * then, so no completion and no cancel can ever touch a socket that took the number later
 * ({@link SocketOps}, as for every io_uring socket).
 *
 * <p>Loop thread only (its loop's coroutines). Lifecycle: open → closed (waiters woken with
 * ClosedChannelException) → fd closed (no op in flight).
 */
final class UringTcpStream implements TcpStream, Op.Owner, UringPoller.Closeable {
    /** IORING_RECVSEND_POLL_FIRST on each recv; measured on and off (-Dcoecho.uring.pollFirst). */
    static final boolean RECV_POLL_FIRST = Boolean.parseBoolean(System.getProperty("coecho.uring.pollFirst", "true"));

    /**
     * A write tries send(2) itself first and uses the ring only for what the socket did not take
     * (-Dcoecho.uring.directSend=true); measured against SENDs batched into the turn's enter.
     */
    static final boolean DIRECT_SEND = Boolean.parseBoolean(System.getProperty("coecho.uring.directSend", "false"));

    /** readNow calls in a row before it yields its turn, as on epoll. */
    static final int READ_BUDGET = 16;

    private final UringPoller poller;
    private final BufferPool stock;
    private final Syscalls sys;
    final int fd;
    /** The multishot receiving side, or null: single-shot recvs into {@link #recvBuf}. */
    private final MultishotRecv multishot;
    /** The recv op: single-shot, or the multishot's. */
    private final Op recv;
    private final Op send = new Op(this);
    /** The connect op's address: the kernel reads it after submission, so it stays reachable until then. */
    private PeerAddress connectTo;
    private MemorySegment recvBuf;
    private int recvPos;
    private int recvLimit;
    /** Owned by the send in flight: a stock buffer, or the rest of a blocked write. */
    private MemorySegment sendBuf;
    private UnsentBytes abandonedUnsent;
    private final SocketOps ops;
    private boolean eof;
    private int readsInRow;
    /** A write gave up (timeout, close) while its send was in flight: the completion cleans up. */
    private boolean sendAbandoned;

    UringTcpStream(UringPoller poller, int fd) throws ClosedChannelException {
        this.poller = poller;
        this.stock = poller.buffers();
        this.sys = poller.sys();
        this.fd = fd;
        if (poller.bufferRing() != null) {
            this.multishot = new MultishotRecv(poller, this);
            this.recv = multishot.op;
        } else {
            this.multishot = null;
            this.recv = new Op(this);
        }
        this.ops = new SocketOps(poller, this, fd, recv, send);
        if (!poller.track(this)) {
            throw new ClosedChannelException();
        }
    }

    /** Connects to the address (the stream's socket is new and unconnected), suspending until done. */
    void connect(PeerAddress to) throws IOException {
        connectTo = to;
        long sqe = poller.submit(send, Ring.OP_CONNECT, fd);
        poller.ring.setAddr(sqe, to.sockaddr().address());
        poller.ring.setOff(sqe, to.length());
        int r = ops.await(send);
        connectTo = null;
        if (r == -Errno.ECONNREFUSED) {
            throw new java.net.ConnectException("connection refused: " + to);
        }
        if (r < 0) {
            throw new NativeException("connect", -r);
        }
    }

    @Override
    public int read(MemorySegment dst) throws IOException {
        checkOpen();
        if (multishot != null) {
            if (multishot.queued() == 0 && multishot.spilled() == 0) {
                readsInRow = 0; // it will wait for a CQE: the rest of the loop gets its turn
            } else if (++readsInRow > READ_BUDGET) {
                // Bytes queued in a row (small reads of a full queue): the budget, as on epoll.
                readsInRow = 0;
                Coroutine.yieldNow();
                checkOpen();
            }
            return multishot.read(dst);
        }
        if (recvBuf == null && !recv.inFlight && !recv.done && !eof) {
            recvBuf = stock.acquire();
            long len = Math.min(dst.byteSize(), stock.bufferSize());
            long sqe = poller.submit(recv, Ring.OP_RECV, fd);
            poller.ring.setAddr(sqe, recvBuf.address());
            poller.ring.setLen(sqe, (int) len);
            if (RECV_POLL_FIRST) {
                // Echo traffic is request/response: right after our echo the peer has not answered
                // yet, so arm the poll at once instead of trying a recv that would say EAGAIN.
                poller.ring.setIoprio(sqe, Ring.RECVSEND_POLL_FIRST);
            }
        }
        if (recv.inFlight) {
            readsInRow = 0; // it waits for the completion: the rest of the loop gets its turn
        }
        if (recv.inFlight || recv.done) {
            received(ops.await(recv));
        }
        return copyOut(dst);
    }

    /** Takes a recv's result: bytes now in recvBuf, EOF, or its error. */
    private void received(int r) throws IOException {
        if (r > 0) {
            recvPos = 0;
            recvLimit = r;
            return;
        }
        releaseRecv();
        if (r == 0) {
            eof = true;
            return;
        }
        throw new NativeException("recv", -r);
    }

    /** Copies what recvBuf holds into dst: the count, 0 if nothing, -1 after EOF. */
    private int copyOut(MemorySegment dst) {
        if (recvBuf == null) {
            return eof ? -1 : 0;
        }
        int n = (int) Math.min(recvLimit - recvPos, dst.byteSize());
        MemorySegment.copy(recvBuf, recvPos, dst, 0, n);
        recvPos += n;
        if (recvPos == recvLimit) {
            releaseRecv();
        }
        return n;
    }

    private void releaseRecv() {
        if (recvBuf != null) {
            stock.release(recvBuf);
            recvBuf = null;
        }
    }

    @Override
    public int readNow(MemorySegment dst) throws IOException {
        if (++readsInRow > READ_BUDGET) {
            // The epoll transport's budget: a draining peer that keeps sending must not hold the loop
            // (its shutdown timer included). Before the read: dst may be the loop's shared scratch.
            readsInRow = 0;
            Coroutine.yieldNow();
        }
        checkOpen();
        if (multishot != null) {
            int q = multishot.readNow(dst);
            if (q != 0 || !multishot.idle()) {
                return q;
            }
            return recvNow(dst);
        }
        if (recv.inFlight) {
            // A recv waits in the kernel: take it back (it may have data by now; then that is the answer).
            poller.cancel(recv);
        }
        if (recv.inFlight || recv.done) {
            int r = ops.await(recv);
            if (r == -Errno.ECANCELED) {
                releaseRecv();
            } else {
                received(r);
                return copyOut(dst);
            }
        }
        if (recvBuf != null || eof) {
            return copyOut(dst);
        }
        return recvNow(dst);
    }

    /** recv(2) with MSG_DONTWAIT: nothing of ours is in flight on the socket, so no bytes overtake. */
    private int recvNow(MemorySegment dst) throws IOException {
        long n = sys.recv(fd, dst, dst.byteSize(), LinuxConstants.MSG_DONTWAIT);
        if (n > 0) {
            return (int) n;
        }
        if (n == 0) {
            eof = true;
            if (multishot != null) {
                multishot.sawEof();
            }
            return -1;
        }
        if (n == -Errno.EAGAIN) {
            readsInRow = 0;
            return 0;
        }
        throw new NativeException("recv", (int) -n);
    }

    @Override
    public void write(MemorySegment src, long len) throws IOException {
        Objects.checkFromIndexSize(0, len, src.byteSize());
        if (len == 0) {
            return;
        }
        checkOpen();
        if (send.inFlight) {
            throw new java.io.IOException("an earlier write on " + this + " was abandoned in flight");
        }
        try {
            writeAll(src, len);
        } finally {
            if (send.inFlight) {
                sendAbandoned = true; // the kernel may still read sendBuf: it goes back at the completion
            }
        }
    }

    private void writeAll(MemorySegment src, long len) throws IOException {
        if (DIRECT_SEND) {
            // send(2) first, as on epoll: no suspension, no copy when the socket takes it all.
            long n = sys.send(fd, src, len);
            if (n == len) {
                return;
            }
            if (n < 0 && n != -Errno.EAGAIN) {
                throw new NativeException("send", (int) -n);
            }
            writeRest(UnsentBytes.keep(poller.loop(), src, Math.max(n, 0), len));
            return;
        }
        MemorySegment from = src; // its first len bytes: no slice per write, that is an allocation per echo
        if (len <= stock.bufferSize()) {
            sendBuf = stock.acquire();
            MemorySegment.copy(src, 0, sendBuf, 0, len);
            from = sendBuf;
        }
        int r = sendAndWait(from, len, LinuxConstants.MSG_DONTWAIT);
        if (r == len) {
            releaseSend();
            return;
        }
        if (r < 0 && r != -Errno.EAGAIN) {
            releaseSend();
            throw new NativeException("send", -r);
        }
        UnsentBytes unsent = UnsentBytes.keep(poller.loop(), from, Math.max(r, 0), len);
        releaseSend();
        writeRest(unsent);
    }

    /** The blocked rest of a write: ring SENDs without MSG_DONTWAIT until the socket took it all. */
    private void writeRest(UnsentBytes unsent) throws IOException {
        if (multishot != null) {
            multishot.pause();
        }
        int r;
        try {
            MemorySegment pending = unsent.bytes();
            long off = 0;
            while (off < pending.byteSize()) {
                r = sendAndWait(pending.asSlice(off), pending.byteSize() - off, 0);
                if (r < 0 && r != -Errno.EAGAIN) {
                    throw new NativeException("send", -r);
                }
                off += Math.max(r, 0);
            }
        } finally {
            if (send.inFlight) {
                abandonedUnsent = unsent;
            } else {
                unsent.close();
            }
        }
    }

    /** One SEND of bytes[0, len), waited for: the count sent or -errno. */
    private int sendAndWait(MemorySegment bytes, long len, int flags) throws IOException {
        long sqe = poller.submit(send, Ring.OP_SEND, fd);
        poller.ring.setAddr(sqe, bytes.address());
        poller.ring.setLen(sqe, (int) Math.min(len, Integer.MAX_VALUE));
        poller.ring.setOpFlags(sqe, flags | LinuxConstants.MSG_NOSIGNAL);
        return ops.await(send);
    }

    private void releaseSend() {
        if (sendBuf != null && !send.inFlight) {
            stock.release(sendBuf);
            sendBuf = null;
        }
    }

    @Override
    public void completed(Op op) {
        boolean closed = ops.closed();
        if (multishot != null && op == recv) {
            multishot.completed(closed);
        } else if (op == send && (closed || sendAbandoned)) {
            sendAbandoned = false;
            send.take();
            if (sendBuf != null) {
                stock.release(sendBuf);
                sendBuf = null;
            }
            if (abandonedUnsent != null) {
                abandonedUnsent.close();
                abandonedUnsent = null;
            }
        } else if (op == recv && closed) {
            recv.take();
            releaseRecv();
        }
        ops.completed();
    }

    void checkOpen() throws ClosedChannelException {
        ops.checkOpen();
    }

    @Override
    public void shutdownOutput() throws IOException {
        checkOpen();
        int r = sys.shutdown(fd, LinuxConstants.SHUT_WR);
        if (r < 0 && r != -Errno.ENOTCONN) {
            throw new NativeException("shutdown", -r);
        }
    }

    @Override
    public InetSocketAddress remoteAddress() {
        if (ops.closed()) {
            return null;
        }
        return sys.peerAddress(fd);
    }

    @Override
    public void reset() {
        if (!ops.closed()) {
            // A linger of zero makes the close send an RST and drop what is unsent, as on epoll. The
            // fd is closed only after its last completion (close), and the option stays set until then.
            sys.setLinger(fd, true, 0);
            close();
        }
    }

    @Override
    public void close() {
        if (ops.closed()) {
            return;
        }
        if (multishot != null) {
            multishot.discard(); // queued ring buffers go back now, spilled bytes are dropped
        }
        ops.close(() -> {
            releaseRecv();
            releaseSend();
        });
    }

    /**
     * For tests: ring buffers queued on the stream, bytes spilled off the ring, whether the recv is in
     * flight and whether reading is paused for a waiting write (1 or 0).
     */
    int[] held() {
        return new int[] {multishot == null ? 0 : multishot.queued(), multishot == null ? 0 : multishot.spilled(),
            recv.inFlight ? 1 : 0, multishot != null && multishot.paused() ? 1 : 0};
    }

    @Override
    public String toString() {
        return "tcp fd=" + fd + " (io_uring)";
    }
}
