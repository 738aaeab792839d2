package io.coecho.runtime.uring;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.NativeException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A stream's receiving side with one multishot recv (IORING_RECV_MULTISHOT + IOSQE_BUFFER_SELECT)
 * into the loop's {@link BufferRing}: armed once while the connection reads, each arrival a CQE that
 * names a ring buffer. Bytes that arrive while the coroutine is not reading wait here as a queue of
 * (buffer id, length); a buffer goes back to the ring as soon as its bytes are copied out to a reader.
 *
 * <pre>
 *   spill (heap, only after a pause)   queue: bid/len, bid/len, ...   (oldest first: spill, then queue)
 *   [ headPos ..len ) of the first queued buffer is still unread
 * </pre>
 *
 * <p>Bounded, the hazards of a slow reader (issue 14): a multishot keeps reading whether or not
 * anyone reads the stream, so (1) while an echo write waits for the peer ({@link #pause}) the recv is
 * cancelled, as epoll reads nothing more then, and what was queued (plus what arrived before the
 * cancel landed) is copied to a heap spill and its ring buffers go back: a connection blocked on a
 * slow peer never pins the shared ring, so it cannot starve the others; (2) a coroutine that simply
 * does not read gets its recv cancelled once {@link #QUEUE_CAP} buffers wait. Either way the recv is
 * re-armed only by a read that found nothing queued. What one connection holds is thus the cap plus
 * what the kernel takes before the cancel lands (it fills up to 32 buffers per wake-up; UringBufferRingIT
 * saw at most 65 buffers of 4 KiB out, and a spill of at most about 220 KiB, on loopback).
 *
 * <p>ENOBUFS (the ring ran dry) ends the multishot, never the connection: the stream is put on the
 * poller's starved list and re-armed when a buffer comes back ({@link UringPoller#recycle}).
 *
 * <p>Loop thread only. Lifecycle: made with its stream; armed / ended (final CQE without F_MORE) any
 * number of times; {@link #discard} at the stream's close gives every buffer back.
 */
final class MultishotRecv {
    /** Buffers queued before a coroutine that does not read has its recv cancelled. */
    static final int QUEUE_CAP = 8;
    private static final int IOSQE_BUFFER_SELECT = 1 << 5;
    private static final short RECV_MULTISHOT = 2;
    static final int CQE_F_BUFFER = 1;
    static final int CQE_F_MORE = 2;

    private final UringPoller poller;
    private final BufferRing ring;
    private final UringTcpStream stream;
    final Op op;
    private int[] bids = new int[QUEUE_CAP * 4];
    private int[] lens = new int[QUEUE_CAP * 4];
    private int first;
    private int count;
    /** Bytes of the first queued buffer already copied out. */
    private int headPos;
    /** Bytes kept after a pause, ahead of the queue: [spillPos, spillEnd). */
    private byte[] spill;
    private int spillPos;
    private int spillEnd;
    private boolean paused;
    private boolean cancelling;
    /** Ended by ENOBUFS: re-armed only when a buffer comes back. */
    boolean starved;
    private boolean eof;
    /** The errno that ended the recv (a reset), raised once the queued bytes are read. */
    private int error;

    MultishotRecv(UringPoller poller, UringTcpStream stream) {
        this.poller = poller;
        this.ring = poller.bufferRing();
        this.stream = stream;
        this.op = new Op(stream);
    }

    /** Reads queued bytes into dst, arming the recv and suspending while there are none. */
    int read(MemorySegment dst) throws IOException {
        while (true) {
            // A queued write that the socket did not take whole is finished first: nothing more is
            // read while an echo waits for the peer (it pauses this recv meanwhile).
            stream.finishWaitingWrite();
            paused = false;
            int n = takeQueued(dst);
            if (n != 0) {
                return n;
            }
            if (!op.inFlight && !starved) {
                arm();
            }
            op.waiter = Coroutine.require();
            try {
                stream.checkOpen();
                Coroutine.suspend();
            } finally {
                op.waiter = null;
            }
            stream.checkOpen();
        }
    }

    /**
     * What is queued, without waiting: the count, -1 at EOF, 0 if nothing; with the recv in flight it
     * is cancelled first and its last bytes taken (a direct recv must never overtake them). Then
     * {@link #idle} tells whether the socket may be read directly.
     */
    int readNow(MemorySegment dst) throws IOException {
        int n = takeQueued(dst);
        if (n != 0 || !op.inFlight) {
            return n;
        }
        cancel();
        op.waiter = Coroutine.require();
        try {
            while (op.inFlight) {
                stream.checkOpen();
                Coroutine.suspend();
            }
        } finally {
            op.waiter = null;
        }
        stream.checkOpen();
        return takeQueued(dst);
    }

    /** No recv in flight and nothing queued: the socket itself may be read. */
    boolean idle() {
        return !op.inFlight && count == 0 && spillPos == spillEnd;
    }

    /** The peer's EOF was seen by a direct read. */
    void sawEof() {
        eof = true;
    }

    /** Queued bytes into dst; 0 if none, -1 at EOF; throws the error that ended the recv. */
    private int takeQueued(MemorySegment dst) throws IOException {
        int n = 0;
        int room = (int) Math.min(dst.byteSize(), Integer.MAX_VALUE);
        if (spillPos < spillEnd) {
            n = Math.min(room, spillEnd - spillPos);
            MemorySegment.copy(spill, spillPos, dst, ValueLayout.JAVA_BYTE, 0, n);
            spillPos += n;
            if (spillPos == spillEnd) {
                spill = null; // a slow peer's bytes: give the heap back
                spillPos = spillEnd = 0;
            }
        }
        while (n < room && count > 0) {
            int bid = bids[first];
            int len = lens[first];
            int k = Math.min(room - n, len - headPos);
            ring.copyOut(bid, headPos, dst, n, k);
            n += k;
            headPos += k;
            if (headPos == len) {
                dequeue();
                poller.recycle(bid);
            }
        }
        if (n > 0) {
            return n;
        }
        if (error != 0) {
            throw new NativeException("recv", error);
        }
        return eof ? -1 : 0;
    }

    private void arm() {
        long sqe = poller.submit(op, Ring.OP_RECV, stream.fd);
        Ring r = poller.ring;
        r.setFlags(sqe, (byte) IOSQE_BUFFER_SELECT);
        r.setBufGroup(sqe, (short) ring.groupId);
        // POLL_FIRST: the echo's peer has not answered yet when we arm, so poll before trying.
        r.setIoprio(sqe, (short) (RECV_MULTISHOT | (UringTcpStream.RECV_POLL_FIRST ? Ring.RECVSEND_POLL_FIRST : 0)));
        cancelling = false;
    }

    private void cancel() {
        if (op.inFlight && !cancelling) {
            cancelling = true;
            poller.cancel(op);
        }
    }

    /**
     * A write waits for the peer: read nothing more (cancel), and move what is queued off the ring so
     * that a connection stuck on a slow peer holds none of the loop's shared buffers.
     */
    void pause() {
        paused = true;
        cancel();
        while (count > 0) {
            int bid = bids[first];
            keep(ring.buffer(bid, lens[first]).asSlice(headPos));
            dequeue();
            poller.recycle(bid);
        }
    }

    private void keep(MemorySegment bytes) {
        int len = (int) bytes.byteSize();
        if (spill == null) {
            spill = new byte[Math.max(len, ring.bufferSize)];
        } else if (spillEnd + len > spill.length) {
            spill = Arrays.copyOf(spill, Math.max(spillEnd + len, spill.length * 2));
        }
        MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, 0, spill, spillEnd, len);
        spillEnd += len;
    }

    /** One CQE of the recv; closed: the stream is closed and its bytes go nowhere. */
    void completed(boolean closed) {
        int res = op.take();
        int flags = op.flags;
        if ((flags & CQE_F_BUFFER) != 0) {
            int bid = flags >>> 16;
            ring.taken();
            if (closed || res <= 0) {
                poller.recycle(bid);
            } else if (paused) {
                keep(ring.buffer(bid, res));
                poller.recycle(bid);
            } else {
                enqueue(bid, res);
            }
        } else if (res == 0 && !op.inFlight) {
            eof = true;
        } else if (res == -Errno.ENOBUFS) {
            ring.ranDry();
            if (!closed) {
                poller.starved(this);
            }
        } else if (res < 0 && res != -Errno.ECANCELED && !closed) {
            error = -res;
        }
        if (op.inFlight && count >= QUEUE_CAP) {
            cancel(); // nobody reads: see the class comment
        }
    }

    /** Whether bytes taken off the socket wait here for a read. */
    boolean hasQueued() {
        return count > 0 || spillPos < spillEnd || eof || error != 0;
    }

    /** Touches the queue a CQE of this recv goes to: see UringPoller's warm. */
    int warm() {
        return bids[first] + lens[first];
    }

    /** Buffers came back after ENOBUFS: the reader, if one waits, arms again. */
    void unstarve() {
        starved = false;
        if (op.waiter != null) {
            op.waiter.wake();
        }
    }

    boolean reading() {
        return op.waiter != null;
    }

    /** A queued write came back short: the waiting reader, if any, goes to finish it. */
    void wakeReader() {
        if (op.waiter != null) {
            op.waiter.wake();
        }
    }

    /** The stream closed: every queued buffer goes back, the spill is dropped. */
    void discard() {
        while (count > 0) {
            int bid = bids[first];
            dequeue();
            poller.recycle(bid);
        }
        spill = null;
        spillPos = spillEnd = 0;
    }

    /** A write waits: nothing more is read until the next read. */
    boolean paused() {
        return paused;
    }

    /** Ring buffers queued on this stream now. */
    int queued() {
        return count;
    }

    /** Bytes held off the ring after a pause. */
    int spilled() {
        return spillEnd - spillPos;
    }

    private void enqueue(int bid, int len) {
        if (count == bids.length) {
            int[] b = new int[count * 2];
            int[] l = new int[count * 2];
            for (int i = 0; i < count; i++) {
                b[i] = bids[(first + i) % bids.length];
                l[i] = lens[(first + i) % bids.length];
            }
            bids = b;
            lens = l;
            first = 0;
        }
        int at = (first + count) % bids.length;
        bids[at] = bid;
        lens[at] = len;
        count++;
    }

    private void dequeue() {
        first = (first + 1) % bids.length;
        count--;
        headPos = 0;
    }
}
