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
 * suspends while nothing is queued; a write copies its bytes to a stock buffer, submits a SEND and
 * returns (queued: see below). At most one recv and one send are in flight.
 *
 * <p>With -Dcoecho.uring.multishot=false (or no buffer ring), each read is a single-shot RECV: the
 * kernel fills a recv buffer after the reader suspended, so the recv goes into a buffer of the
 * poller's stock and is copied out to the caller's (which may be the loop's shared scratch); that
 * buffer is held while the connection waits, so memory follows connections, not data. A buffer goes
 * back only at its op's completion, also when the caller gave up waiting (a timeout, a close).
 *
 * <p>Why copy out of the ring buffer rather than hand it to the caller: the contract stays "fill my
 * segment" for every transport, the copy is one memcpy of what a syscall just moved, and a handed-out
 * buffer would need a release call that every caller must get right or drain the shared ring.
 *
 * <p>Queued writes (multishot reads, at most a stock buffer: every echo): the writer is not resumed
 * for its SEND's completion, which would be a second suspension per echo (the first is the read's).
 * The bytes are copied before anything can suspend, since src may be the loop's scratch. The SEND
 * carries MSG_DONTWAIT: a socket that takes it whole ends the write in {@link #completed}, and the
 * coroutine never hears of it. A full socket comes back as EAGAIN or a short count; then the write is
 * finished by the coroutine's next call, as if it had waited in it: the next write (one write at a
 * time, so sends never overtake each other), {@link #shutdownOutput} (the FIN goes last), or the next
 * read, which a short completion wakes for that. Finishing is what a blocked write on epoll does: the
 * rest is kept ({@link UnsentBytes}, counted in the loop's stats) and sent without MSG_DONTWAIT, the
 * multishot recv is cancelled meanwhile ({@link MultishotRecv#pause}: see there for why a slow reader
 * holds bounded memory), and {@link #writeWaiting} tells the application's write timeout. A close
 * right after a queued write still sends it: the SEND is ahead of the close's cancel in the same
 * enter; only what a full socket refused is dropped, as a reset drops it. A write larger than a stock
 * buffer sends from the caller's memory and waits in the call.
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

    /**
     * Writes of at most a stock buffer are queued (see write) with multishot reads on; measured
     * against waiting for each send's completion (-Dcoecho.uring.queueWrites=false).
     */
    static final boolean QUEUE_WRITES = Boolean.parseBoolean(System.getProperty("coecho.uring.queueWrites", "true"));

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
    /** The stock buffer a write was copied to, held until its send is done. */
    private MemorySegment sendBuf;
    /**
     * A write is under way: its send in flight, or its result not yet handled. It sends
     * sendBytes[sendOff, sendEnd): sendBuf, the caller's own source (borrowed: larger than a stock
     * buffer), or the unsent rest.
     */
    private boolean sending;
    private MemorySegment sendBytes;
    private long sendOff;
    private long sendEnd;
    private boolean borrowed;
    /** The rest of a write that the socket did not take at once: it waits for the peer. */
    private UnsentBytes unsent;
    private final SocketOps ops;
    private boolean eof;
    private int readsInRow;
    /** A write of the caller's own memory gave up (a timeout) while its send was in flight. */
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
        if (sendAbandoned) {
            throw new java.io.IOException("an earlier write on " + this + " was abandoned in flight");
        }
        MemorySegment copy = null;
        if (len <= stock.bufferSize() && (sending || !DIRECT_SEND)) {
            // Copied before anything may suspend: src may be the loop's scratch, which the loop's
            // other coroutines read into while this one waits (for the last write, or this one's).
            copy = stock.acquire();
            MemorySegment.copy(src, 0, copy, 0, len);
        }
        if (sending) {
            try {
                finishWrite(); // one write at a time: the last one is done before this one starts
            } catch (IOException | RuntimeException e) {
                if (copy != null) {
                    stock.release(copy);
                }
                throw e;
            }
        }
        if (DIRECT_SEND) {
            try {
                sendDirect(copy != null ? copy : src, len);
            } finally {
                if (copy != null) {
                    stock.release(copy); // what waits was copied again (UnsentBytes), or is the caller's
                }
            }
            return;
        }
        if (copy != null) {
            sendBuf = copy;
            startSend(copy, len, false);
            if (multishot != null && QUEUE_WRITES) {
                // Queued: the send goes out in this turn's enter and the coroutine goes on (to its
                // next read, as a rule) without waiting for the completion; completed() ends a send
                // that the socket took whole, and a short one is finished by the next call.
                return;
            }
        } else {
            startSend(src, len, true);
        }
        finishWrite();
    }

    /** send(2) first, as on epoll: no suspension, no copy when the socket takes it all. */
    private void sendDirect(MemorySegment src, long len) throws IOException {
        long n = sys.send(fd, src, len);
        if (n == len) {
            return;
        }
        if (n < 0 && n != -Errno.EAGAIN) {
            throw new NativeException("send", (int) -n);
        }
        // The rest goes through the ring, as a write whose first send came back short.
        sending = true;
        borrowed = true;
        sendBytes = src;
        sendOff = Math.max(n, 0);
        sendEnd = len;
        keepRest();
        submitSend(0);
        finishWrite();
    }

    /**
     * A SEND of bytes[0, len) with MSG_DONTWAIT, so that a full socket comes back as EAGAIN or a
     * short count; borrowed: bytes are the caller's and must not be read after write returns.
     */
    private void startSend(MemorySegment bytes, long len, boolean borrowed) {
        sending = true;
        sendBytes = bytes;
        sendOff = 0;
        sendEnd = len;
        this.borrowed = borrowed;
        submitSend(LinuxConstants.MSG_DONTWAIT);
    }

    /** SENDs sendBytes[sendOff, sendEnd); without MSG_DONTWAIT the kernel waits for room itself. */
    private void submitSend(int flags) {
        long sqe = poller.submit(send, Ring.OP_SEND, fd);
        poller.ring.setAddr(sqe, sendBytes.address() + sendOff);
        poller.ring.setLen(sqe, (int) Math.min(sendEnd - sendOff, Integer.MAX_VALUE));
        poller.ring.setOpFlags(sqe, flags | LinuxConstants.MSG_NOSIGNAL);
    }

    /**
     * Waits until the write under way is done: its send's completion, then the rest that the socket
     * did not take, sent (without MSG_DONTWAIT) while reading is paused, as a blocked write on epoll
     * reads nothing more. Throws the send's error. Interrupted (a timeout, a drain), the write stays
     * under way and the next call goes on with it; a borrowed source cannot wait for that (the caller
     * may reuse it), so that write is abandoned.
     */
    private void finishWrite() throws IOException {
        boolean done = false;
        try {
            while (true) {
                int r = ops.await(send);
                if (r < 0 && r != -Errno.EAGAIN) {
                    endWrite();
                    done = true;
                    throw new NativeException("send", -r);
                }
                sendOff += Math.max(r, 0);
                if (sendOff == sendEnd) {
                    endWrite();
                    done = true;
                    return;
                }
                if (unsent == null) {
                    keepRest();
                }
                submitSend(0);
            }
        } finally {
            if (!done && sending && borrowed && send.inFlight) {
                sendAbandoned = true; // the kernel may still read the caller's memory: the completion cleans up
            }
        }
    }

    /**
     * The socket is full: the rest of the write under way, sendBytes[sendOff, sendEnd), waits for the
     * peer, in a buffer of its own if it fits one (counted in the loop's stats as a waiting write),
     * and nothing more is read meanwhile.
     */
    private void keepRest() {
        unsent = UnsentBytes.keep(poller.loop(), sendBytes, sendOff, sendEnd);
        releaseSend();
        sendBytes = unsent.bytes();
        sendOff = 0;
        sendEnd = sendBytes.byteSize();
        if (multishot != null) {
            multishot.pause();
        }
    }

    /** The write under way is over (sent, or failed): its buffers go back. */
    private void endWrite() {
        sending = false;
        sendBytes = null;
        borrowed = false;
        releaseSend();
        if (unsent != null) {
            unsent.close();
            unsent = null;
        }
    }

    /** For a read: a queued write that the socket did not take whole is finished first. */
    void finishWaitingWrite() throws IOException {
        if (sending && !send.inFlight) {
            finishWrite();
        }
    }

    @Override
    public boolean writeWaiting() {
        return sending && (unsent != null || !send.inFlight);
    }

    @Override
    public boolean inputPending() {
        if (ops.closed()) {
            return false;
        }
        // Bytes the multishot recv has taken off the socket wait in its queue; the rest may still be
        // in the socket, where a recv whose completion is still to come (the kernel runs it at an
        // enter) has not taken them yet.
        return (multishot != null && multishot.hasQueued()) || sys.inputPending(fd);
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
            endWrite();
        } else if (op == send && sending && send.waiter == null && !send.inFlight) {
            // A queued write's send, and nobody waits for it: taken whole, the write ends here;
            // otherwise the reader (if one waits) is woken to finish it (finishWaitingWrite).
            if (send.res == sendEnd - sendOff) {
                send.take();
                endWrite();
            } else if (multishot != null) {
                multishot.wakeReader();
            }
        } else if (op == recv && closed) {
            recv.take();
            releaseRecv();
        }
        ops.completed();
    }

    /** Touches what a completion of this stream's ops will: see UringPoller's warm. */
    int warm() {
        MultishotRecv m = multishot;
        return m == null ? 0 : m.warm();
    }

    void checkOpen() throws ClosedChannelException {
        ops.checkOpen();
    }

    @Override
    public void shutdownOutput() throws IOException {
        checkOpen();
        if (sending) {
            finishWrite(); // the FIN goes after every byte written
        }
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
        if (sending && !send.inFlight) {
            endWrite(); // a queued write's short result, never finished: its buffers go back now
        }
        ops.close(() -> {
            releaseRecv();
            endWrite();
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
