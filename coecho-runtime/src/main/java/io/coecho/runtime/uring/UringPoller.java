package io.coecho.runtime.uring;

import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.linux.Syscalls;
import io.coecho.runtime.reactor.BufferPool;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.Poller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * io_uring as a {@link Poller}: {@link #poll} is the turn's one io_uring_enter (submit all, wait with
 * the timer deadline), {@link #dispatch} reads the CQEs and completes the ops they name, which resumes
 * the coroutines that submitted them.
 *
 * <p>user_data = generation (high 32 bits) + slot (low 32) in {@link #ops}: a slot is taken per
 * submission and freed by its completion, so a completion can reach only the submission it belongs to,
 * never a later one that reused the slot or the socket's fd number. user_data 0 marks operations
 * whose completion nobody waits for (cancels).
 *
 * <p>The provided buffer ring ({@link BufferRing}, group 0) that the streams' multishot recvs share,
 * unless -Dcoecho.uring.multishot=false or the kernel refuses it (then each read is a single-shot
 * recv into a buffer of the poller's {@link BufferPool}). Streams whose recv ended with ENOBUFS wait on a starved
 * list; each buffer that comes back ({@link #recycle}) re-arms the first of them.
 *
 * <p>Cross-thread wake-up: a read of an eventfd kept armed; {@link #wakeup} writes to the eventfd.
 *
 * <p>Loop thread only, except {@link #wakeup()}. Lifecycle: made with its loop (on any thread: the
 * ring is set up, nothing submitted), polled by it, closed at its end (sockets closed, everything in
 * flight cancelled and waited for, then the ring unmapped).
 */
final class UringPoller implements Poller {
    private static final System.Logger LOG = System.getLogger(UringPoller.class.getName());
    private static final int SQ_ENTRIES = 4096;
    /** Up to two ops per connection plus cancels; ample for 10,000 connections per loop. */
    private static final int CQ_ENTRIES = 32768;

    /**
     * SINGLE_ISSUER + DEFER_TASKRUN: the loop thread is the only submitter anyway. Measured on and
     * off (docs/BENCHMARKS.md); -Dcoecho.uring.singleIssuer=false turns it off.
     */
    static final boolean SINGLE_ISSUER =
            Boolean.parseBoolean(System.getProperty("coecho.uring.singleIssuer", "true"));

    /**
     * A pass that warms the cache for a batch of completions before completing any ({@link #warm}).
     * Measured on and off (docs/BENCHMARKS.md); -Dcoecho.uring.warm=false turns it off.
     */
    static final boolean WARM = Boolean.parseBoolean(System.getProperty("coecho.uring.warm", "true"));

    private final EventLoop loop;
    private final Syscalls sys = new Syscalls();
    /** Sink for {@link #warm}'s loads, so that the JIT keeps them. */
    private int warmth;
    /** Used by other threads' wakeups only. */
    private final Syscalls wakeSys = new Syscalls();
    final Ring ring;
    private final BufferPool buffers;
    /** null: multishot off (the property, or the kernel refused the ring). */
    private final BufferRing bufferRing;
    private final ArrayDeque<MultishotRecv> starved = new ArrayDeque<>();
    private final int wakeFd;
    private final MemorySegment wakeValue;
    private final MemorySegment wakeRead;
    private final Op wakeOp;
    private final Object wakeLock = new Object();
    private boolean wakeClosed;
    private Op[] ops = new Op[1024];
    private int[] generations = new int[1024];
    private int[] freeSlots = new int[1024];
    private int freeCount;
    private int nextSlot;
    private int inFlight;
    private final Set<Closeable> open = Collections.newSetFromMap(new IdentityHashMap<>());
    private final ArrayList<BeforeEnter> beforeEnter = new ArrayList<>();
    private boolean closing;
    private long overflows;
    /** CQEs of the cancels themselves (user_data 0): none for a successful one with skipSuccess. */
    private long cancelCompletions;

    /** What the poller closes at its end: its sockets. */
    interface Closeable {
        void close();
    }

    /** Asked once, just before the turn's io_uring_enter, whether to queue something more (a cancel). */
    interface BeforeEnter {
        void beforeEnter();
    }

    UringPoller(EventLoop loop) {
        this(loop, BufferRing.Shape.fromProperties());
    }

    /** With a buffer ring of the given shape, or none (null: single-shot recvs). */
    UringPoller(EventLoop loop, BufferRing.Shape shape) {
        this.loop = loop;
        try {
            this.ring = new Ring(sys, SQ_ENTRIES, CQ_ENTRIES, SINGLE_ISSUER);
        } catch (NativeException e) {
            throw new UncheckedIOException(e);
        }
        this.buffers = new BufferPool((int) loop.scratch().byteSize(), 256);
        this.bufferRing = shape == null ? null : registerBufferRing(shape);
        Arena arena = Arena.ofAuto();
        this.wakeValue = arena.allocate(8, 8);
        this.wakeRead = arena.allocate(8, 8);
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1L);
        int efd = sys.eventfd(0, 0x80000 /* EFD_CLOEXEC */);
        if (efd < 0) {
            ring.close();
            throw new UncheckedIOException(new NativeException("eventfd", -efd));
        }
        this.wakeFd = efd;
        this.wakeOp = new Op(op -> armWakeup());
        armWakeup();
    }

    private BufferRing registerBufferRing(BufferRing.Shape shape) {
        try {
            return new BufferRing(sys, ring.fd, 0, shape);
        } catch (NativeException e) {
            // Before Linux 5.19 (or where it is forbidden): the single-shot recvs still work.
            LOG.log(System.Logger.Level.INFO, "loop " + loop.name() + ": no provided buffer ring (" + e.getMessage()
                    + "); io_uring reads use single-shot recvs");
            return null;
        }
    }

    /** The loop's provided buffer ring, or null: then streams use single-shot recvs. */
    BufferRing bufferRing() {
        return bufferRing;
    }

    /** Gives ring buffer bid back to the kernel; re-arms a stream that ran dry, if one waits. */
    void recycle(int bid) {
        bufferRing.recycle(bid);
        MultishotRecv s;
        while ((s = starved.pollFirst()) != null) {
            if (s.starved) {
                s.unstarve();
                if (s.reading()) {
                    return; // one buffer back, one stream re-armed: the rest wait for more
                }
            }
        }
    }

    /**
     * recv's multishot ended with ENOBUFS. If buffers came back meanwhile it may arm again at once;
     * otherwise it waits for the next {@link #recycle}, which is bound to come: only connections whose
     * coroutines are about to read hold ring buffers (a paused one moved its bytes off the ring).
     */
    void starved(MultishotRecv recv) {
        if (bufferRing.out() < bufferRing.entries()) {
            recv.unstarve();
        } else {
            recv.starved = true;
            starved.addLast(recv);
        }
    }

    /** Keeps a read of the eventfd in flight: its completion is the wake-up (and re-arms it). */
    private void armWakeup() {
        if (closing) {
            return;
        }
        wakeOp.take();
        long sqe = submit(wakeOp, Ring.OP_READ, wakeFd);
        ring.setAddr(sqe, wakeRead.address());
        ring.setLen(sqe, 8);
    }

    EventLoop loop() {
        return loop;
    }

    Syscalls sys() {
        return sys;
    }

    BufferPool buffers() {
        return buffers;
    }

    /**
     * Queues op as opcode on fd and returns its SQE for the caller to fill; it is submitted at the next
     * enter. The op is in flight until its completion.
     */
    long submit(Op op, byte opcode, int fd) {
        int slot = freeCount > 0 ? freeSlots[--freeCount] : newSlot();
        int gen = ++generations[slot];
        long userData = ((long) gen << 32) | slot;
        long sqe;
        try {
            sqe = ring.prepare(opcode, fd, userData);
        } catch (RuntimeException e) {
            // No SQE was queued (SQ full while the CQ overflows): the op is not in flight, and its slot
            // is free again; marking it first left it "in flight" for good, its waiter never woken.
            freeSlots[freeCount++] = slot;
            throw e;
        }
        ops[slot] = op;
        op.userData = userData;
        op.inFlight = true;
        op.done = false;
        inFlight++;
        return sqe;
    }

    private int newSlot() {
        if (nextSlot == ops.length) {
            int n = ops.length * 2;
            ops = Arrays.copyOf(ops, n);
            generations = Arrays.copyOf(generations, n);
            freeSlots = Arrays.copyOf(freeSlots, n);
        }
        return nextSlot++;
    }

    /** Asks the kernel to cancel every operation in flight on fd; its completions follow. */
    void cancelAll(int fd) {
        long sqe = prepareCancel(fd);
        ring.setOpFlags(sqe, Ring.ASYNC_CANCEL_ALL | Ring.ASYNC_CANCEL_FD);
    }

    /** Asks the kernel to cancel op's current submission; its completion follows. */
    void cancel(Op op) {
        long sqe = prepareCancel(-1);
        ring.setAddr(sqe, op.userData);
    }

    /**
     * An async cancel, user_data 0: nobody waits for its own completion, only for those of the ops it
     * cancels. Its success carries nothing we use, so it posts no CQE at all (IOSQE_CQE_SKIP_SUCCESS,
     * -Dcoecho.uring.skipSuccess): one CQE less per close or pause. A failed cancel (ENOENT: the op
     * completed meanwhile; EALREADY) still posts one, and dispatch drops it as before. The cancelled
     * ops' own CQEs are not touched: they close fds and give buffers back.
     */
    private long prepareCancel(int fd) {
        long sqe = ring.prepare(Ring.OP_ASYNC_CANCEL, fd, 0L);
        if (ring.skipSuccess) {
            ring.setFlags(sqe, Ring.SQE_CQE_SKIP_SUCCESS);
        }
        return sqe;
    }

    /** Registers a socket to close at the poller's end; refused once it is closing. */
    boolean track(Closeable c) {
        if (closing) {
            return false;
        }
        open.add(c);
        return true;
    }

    void untrack(Closeable c) {
        open.remove(c);
    }

    /** Asks b just before this turn's enter (once per call); what it queues goes out in that enter. */
    void beforeEnter(BeforeEnter b) {
        beforeEnter.add(b);
    }

    @Override
    public int poll(int timeoutMillis) throws IOException {
        for (int i = 0; i < beforeEnter.size(); i++) {
            beforeEnter.get(i).beforeEnter();
        }
        beforeEnter.clear();
        long nanos = timeoutMillis < 0 ? -1 : timeoutMillis * 1_000_000L;
        return ring.enter(nanos);
    }

    @Override
    public void dispatch(int count) {
        if (count > 1 && WARM) {
            warm(count);
        }
        for (int i = 0; i < count; i++) {
            long userData = ring.cqeUserData(0);
            int res = ring.cqeRes(0);
            int flags = ring.cqeFlags(0);
            // Hand the slot back before completing: a completion may submit more, and the SQ may
            // then need to flush, which needs CQ room when the CQ is near full.
            ring.consume(1);
            if (userData == 0) {
                cancelCompletions++;
                continue; // a cancel's own completion
            }
            int slot = (int) userData;
            Op op = slot < nextSlot && generations[slot] == (int) (userData >>> 32) ? ops[slot] : null;
            if (op == null) {
                // Cannot happen by design (each submission completes once): say so, never act on it.
                LOG.log(System.Logger.Level.WARNING, "loop " + loop.name() + ": completion for no submission: "
                        + Long.toHexString(userData));
                continue;
            }
            // F_MORE: a multishot op stays armed, its slot and generation with it, until its last CQE.
            boolean more = (flags & MultishotRecv.CQE_F_MORE) != 0;
            if (!more) {
                ops[slot] = null;
                freeSlots[freeCount++] = slot;
                inFlight--;
            }
            try {
                op.complete(res, flags, more);
            } catch (RuntimeException | Error e) {
                LOG.log(System.Logger.Level.ERROR, "loop " + loop.name() + ": completion failed", e);
            }
        }
        if (ring.overflowed || ring.cqOverflowPending()) {
            // The CQ was too small for a burst: the kernel kept the surplus (FEAT_NODROP) and hands it
            // over at the next enter. Never silent: counted and logged, the first time at WARNING.
            ring.overflowed = false;
            overflows++;
            LOG.log(overflows == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                    "loop " + loop.name() + ": io_uring completion queue overflowed (" + overflows + " times); draining");
        }
    }

    /**
     * Loads, for every CQE of the batch, the objects its completion will touch (the op, its stream,
     * the stream's multishot queue and the waiting coroutine with its continuation) before completing
     * any: with thousands of connections they are cold, and the loads of different CQEs do not
     * depend on each other, so the processor overlaps their cache misses here instead of taking them
     * one chain at a time. EpollPoller's warm does the same for its events.
     */
    private void warm(int count) {
        int sum = 0;
        Op[] table = ops;
        for (int i = 0; i < count; i++) {
            int slot = (int) ring.cqeUserData(i);
            if (slot >= 0 && slot < nextSlot) {
                Op op = table[slot];
                if (op != null) {
                    sum += op.warm();
                }
            }
        }
        warmth += sum;
    }

    @Override
    public void wakeup() {
        // Locked against close(): a late wake-up must not write into a file that took the number.
        synchronized (wakeLock) {
            if (!wakeClosed) {
                wakeSys.write(wakeFd, wakeValue, 8);
            }
        }
    }

    @Override
    public void close() {
        closing = true;
        for (Closeable c : new ArrayList<>(open)) {
            c.close();
        }
        open.clear();
        if (ring.started()) {
            cancelEverything();
        }
        // Never entered (a loop discarded before it ran): the kernel has seen no SQE, nothing to wait for.
        release();
    }

    /**
     * Cancels whatever is still in flight (the eventfd read among it) and waits for the completions,
     * at most a second: the owners give their buffers back at their completions.
     */
    private void cancelEverything() {
        long sqe = prepareCancel(-1);
        ring.setOpFlags(sqe, Ring.ASYNC_CANCEL_ANY | Ring.ASYNC_CANCEL_ALL);
        long deadline = System.nanoTime() + 1_000_000_000L;
        try {
            while (inFlight > 0 && System.nanoTime() < deadline) {
                dispatch(ring.enter(10_000_000L));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "loop " + loop.name() + ": closing the ring", e);
        }
        if (inFlight > 0) {
            LOG.log(System.Logger.Level.WARNING, "loop " + loop.name() + ": " + inFlight
                    + " io_uring operations still in flight at close; their buffers are freed after the ring");
        }
    }

    /**
     * Frees what the kernel may write into, in the one safe order, whether or not every op completed:
     * the buffer ring unregistered (no recv can pick a buffer of it any more), the ring's fd closed
     * (the kernel ends every request still in flight: poll-armed ones are removed, none copies into
     * user memory after that), and only then the memory: the ring's slab and every stock buffer, also
     * those still lent to an op that never completed. Before, a close with ops in flight kept the
     * buffer ring (16 MiB by default) for good, and so did a loop discarded before it ran (its eventfd
     * read is queued, never submitted, yet counted in flight).
     */
    private void release() {
        if (bufferRing != null) {
            int r = bufferRing.unregister(sys, ring.fd);
            if (r < 0) {
                LOG.log(System.Logger.Level.DEBUG, "loop " + loop.name() + ": unregistering the buffer ring: "
                        + Errno.name(-r) + "; closing the ring releases it");
            }
        }
        synchronized (wakeLock) {
            wakeClosed = true;
            sys.close(wakeFd);
        }
        ring.close();
        if (bufferRing != null) {
            bufferRing.free();
        }
        buffers.close();
        // The ended loop's table must not keep its sockets (and their buffers) reachable.
        Arrays.fill(ops, null);
        starved.clear();
    }

    /** For tests: the CQEs of cancels seen so far (a successful one posts none with skipSuccess). */
    long cancelCompletions() {
        return cancelCompletions;
    }

    /**
     * For tests: what the poller still holds: ops in flight by its count, whether the buffer ring's
     * memory is allocated (1 or 0), and the stock's buffers.
     */
    int[] held() {
        return new int[] {inFlight, bufferRing != null && bufferRing.allocated() ? 1 : 0, buffers.allocated()};
    }

    static int errnoOf(int res) {
        return res == -Errno.ECANCELED ? Errno.ECANCELED : -res;
    }
}
