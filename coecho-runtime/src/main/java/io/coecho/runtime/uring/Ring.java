package io.coecho.runtime.uring;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.linux.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance: the submission and completion rings mapped into {@link MemorySegment}s, SQEs
 * filled and CQEs read in plain Java (io_uring(7)), and the one {@code io_uring_enter} per loop turn
 * that submits everything queued and waits for completions until the timer deadline (EXT_ARG).
 *
 * <pre>
 *   SQ ring: head (kernel) .. tail (us)      CQ ring: head (us) .. tail (kernel)
 *   array[i] = i, set once: SQE slot i is the i-th entry, so the tail alone publishes SQEs
 * </pre>
 *
 * <p>Memory ordering, the hazards the man page names: we read the CQ tail with acquire (the kernel's
 * CQE writes happen before its tail store, so we must not read a CQE before we saw the tail that
 * covers it); we write the CQ head with release (our reads of the CQEs happen before the kernel may
 * reuse their slots); we write the SQ tail with release (our SQE writes happen before the kernel sees
 * them); we read the SQ head with acquire (the kernel's reading of an SQE is done before we reuse it).
 *
 * <p>Owned by one loop: everything except construction runs on the loop thread. Lifecycle: made with
 * the poller, closed with it ({@link #close}: unmapped, fd closed).
 */
final class Ring {
    static final byte OP_NOP = 0;
    static final byte OP_SENDMSG = 9;
    static final byte OP_RECVMSG = 10;
    static final byte OP_ACCEPT = 13;
    static final byte OP_ASYNC_CANCEL = 14;
    static final byte OP_CONNECT = 16;
    static final byte OP_READ = 22;
    static final byte OP_SEND = 26;
    static final byte OP_RECV = 27;
    static final byte OP_SHUTDOWN = 34;

    static final short RECVSEND_POLL_FIRST = 1;
    static final int ASYNC_CANCEL_ALL = 1;
    static final int ASYNC_CANCEL_FD = 2;
    static final int ASYNC_CANCEL_ANY = 4;
    /** IOSQE_CQE_SKIP_SUCCESS: no CQE unless the op fails. */
    static final byte SQE_CQE_SKIP_SUCCESS = 1 << 6;

    private static final int SETUP_CQSIZE = 1 << 3;
    private static final int SETUP_R_DISABLED = 1 << 6;
    private static final int SETUP_SINGLE_ISSUER = 1 << 12;
    private static final int SETUP_DEFER_TASKRUN = 1 << 13;
    private static final int REGISTER_ENABLE_RINGS = 12;
    private static final int REGISTER_RING_FDS = 20;
    private static final int UNREGISTER_RING_FDS = 21;
    private static final int ENTER_REGISTERED_RING = 1 << 4;
    private static final int FEAT_SINGLE_MMAP = 1;
    private static final int FEAT_NODROP = 1 << 1;
    private static final int FEAT_EXT_ARG = 1 << 8;
    private static final int FEAT_CQE_SKIP = 1 << 11;
    private static final int ENTER_GETEVENTS = 1;
    private static final int ENTER_EXT_ARG = 8;
    private static final int SQ_CQ_OVERFLOW = 1 << 1;
    private static final long OFF_SQ_RING = 0;
    private static final long OFF_SQES = 0x10000000L;
    private static final int SQE_SIZE = 64;
    private static final int CQE_SIZE = 16;
    private static final int PARAMS_SIZE = 120;
    /** _NSIG / 8 on Linux: the kernel checks sigmask_sz even when sigmask is NULL. */
    private static final int SIGSET_SIZE = 8;

    private static final VarHandle INT = JAVA_INT.varHandle();

    /**
     * IORING_REGISTER_RING_FDS at the first enter, then IORING_ENTER_REGISTERED_RING on each: the
     * kernel finds the ring by its index in the thread's table, without an fd lookup (fdget/fdput)
     * per enter. On by default; where the register call fails (before Linux 5.18), the plain fd is
     * used silently. -Dcoecho.uring.registeredRing=false turns it off.
     */
    /**
     * IOSQE_CQE_SKIP_SUCCESS on the ops whose success carries nothing we use (the async cancels); on by
     * default where the kernel has it (5.17+, FEAT_CQE_SKIP); -Dcoecho.uring.skipSuccess=false turns it off.
     */
    static final boolean SKIP_SUCCESS = Boolean.parseBoolean(System.getProperty("coecho.uring.skipSuccess", "true"));

    static final boolean REGISTERED_RING =
            Boolean.parseBoolean(System.getProperty("coecho.uring.registeredRing", "true"));

    private final Syscalls sys;
    final int fd;
    private final MemorySegment rings;
    private final MemorySegment sqes;
    private final long sqHead;
    private final long sqTail;
    private final long sqFlags;
    private final int sqMask;
    final int sqEntries;
    private final long cqHead;
    private final long cqTail;
    private final long cqOverflow;
    private final long cqes;
    private final int cqMask;
    /** Made disabled (SINGLE_ISSUER): enabled by the first enter, so that its thread is the issuer. */
    private boolean disabled;
    private boolean entered;
    private final boolean registerRing;
    /** What io_uring_enter is given: the ring's fd, or its index in the registering thread's table. */
    private int enterFd;
    /** 0, or ENTER_REGISTERED_RING once enterFd is the index. */
    private int enterFlags;
    /** The thread whose table holds the index (a registration is per thread), or null. */
    private Thread registrar;
    /** Our copy of the SQ tail: SQEs filled but not yet published. */
    private int sqLocalTail;
    private int cqLocalHead;
    /** io_uring_getevents_arg {sigmask, sigmask_sz, min_wait_usec, ts} and its timespec. */
    private final MemorySegment getEventsArg;
    private final MemorySegment timespec;
    /** Whether fire-and-forget ops carry IOSQE_CQE_SKIP_SUCCESS: the switch, where the kernel has it. */
    final boolean skipSuccess;

    /**
     * Sets up a ring with sqEntries submission slots and cqEntries completion slots, or throws
     * {@link NativeException} carrying io_uring_setup's errno (ENOSYS, EPERM: missing or disabled).
     * With singleIssuer (SINGLE_ISSUER + DEFER_TASKRUN, Linux 6.1+): only the thread of the first
     * {@link #enter} may submit, and completions run only when it enters to wait, never as
     * interruptions of its user-space work; where the kernel refuses that, a plain ring.
     */
    Ring(Syscalls sys, int sqEntries, int cqEntries, boolean singleIssuer) throws NativeException {
        this(sys, sqEntries, cqEntries, singleIssuer, REGISTERED_RING);
    }

    /** As above; with registerRing, the first enter's thread registers the ring's fd and enters by index. */
    Ring(Syscalls sys, int sqEntries, int cqEntries, boolean singleIssuer, boolean registerRing) throws NativeException {
        this.sys = sys;
        this.registerRing = registerRing;
        Arena arena = Arena.ofAuto();
        MemorySegment p = arena.allocate(PARAMS_SIZE, 8);
        int ringFd = -Errno.EINVAL;
        if (singleIssuer) {
            p.set(JAVA_INT, 4, cqEntries);
            p.set(JAVA_INT, 8, SETUP_CQSIZE | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_R_DISABLED);
            ringFd = sys.ioUringSetup(sqEntries, p);
            disabled = ringFd >= 0;
        }
        if (ringFd == -Errno.EINVAL) {
            p.fill((byte) 0);
            p.set(JAVA_INT, 4, cqEntries);
            p.set(JAVA_INT, 8, SETUP_CQSIZE);
            ringFd = sys.ioUringSetup(sqEntries, p);
        }
        if (ringFd < 0) {
            throw new NativeException("io_uring_setup", -ringFd);
        }
        this.fd = ringFd;
        this.enterFd = ringFd;
        int features = p.get(JAVA_INT, 20);
        if ((features & FEAT_SINGLE_MMAP) == 0 || (features & FEAT_EXT_ARG) == 0 || (features & FEAT_NODROP) == 0) {
            sys.close(ringFd);
            throw new NativeException("io_uring_setup (kernel too old: needs 5.11)", Errno.ENOSYS);
        }
        this.skipSuccess = SKIP_SUCCESS && (features & FEAT_CQE_SKIP) != 0;
        this.sqEntries = p.get(JAVA_INT, 0);
        int cqCount = p.get(JAVA_INT, 4);
        long sqArray = p.get(JAVA_INT, 64);
        long cqesOff = p.get(JAVA_INT, 100);
        long size = Math.max(sqArray + 4L * this.sqEntries, cqesOff + (long) CQE_SIZE * cqCount);
        MemorySegment r = sys.mmapShared(ringFd, size, OFF_SQ_RING);
        MemorySegment s = r.equals(MemorySegment.NULL) ? r : sys.mmapShared(ringFd, (long) SQE_SIZE * this.sqEntries, OFF_SQES);
        if (r.equals(MemorySegment.NULL) || s.equals(MemorySegment.NULL)) {
            int errno = sys.lastErrno();
            if (!r.equals(MemorySegment.NULL)) {
                sys.munmap(r);
            }
            sys.close(ringFd);
            throw new NativeException("mmap (io_uring)", errno);
        }
        this.rings = r;
        this.sqes = s;
        this.sqHead = p.get(JAVA_INT, 40);
        this.sqTail = p.get(JAVA_INT, 44);
        this.sqMask = rings.get(JAVA_INT, p.get(JAVA_INT, 48));
        this.sqFlags = p.get(JAVA_INT, 56);
        this.cqHead = p.get(JAVA_INT, 80);
        this.cqTail = p.get(JAVA_INT, 84);
        this.cqMask = rings.get(JAVA_INT, p.get(JAVA_INT, 88));
        this.cqOverflow = p.get(JAVA_INT, 96);
        this.cqes = cqesOff;
        for (int i = 0; i < this.sqEntries; i++) {
            rings.set(JAVA_INT, sqArray + 4L * i, i);
        }
        this.sqLocalTail = (int) INT.getAcquire(rings, sqTail);
        this.cqLocalHead = (int) INT.getAcquire(rings, cqHead);
        this.getEventsArg = arena.allocate(24, 8);
        this.timespec = arena.allocate(16, 8);
        getEventsArg.set(JAVA_INT, 8, SIGSET_SIZE);
    }

    /**
     * The next free SQE, zeroed, with opcode, fd and userData set; the caller fills the rest and the
     * next {@link #enter} publishes it. When the SQ is full, submits what is queued first.
     */
    long prepare(byte opcode, int fd, long userData) {
        if (sqLocalTail - (int) INT.getAcquire(rings, sqHead) >= sqEntries) {
            flush();
            if (sqLocalTail - (int) INT.getAcquire(rings, sqHead) >= sqEntries) {
                // The kernel refused them (EBUSY: CQ overflow) and no slot is free: writing on would
                // overwrite an SQE it has not read. Fail loudly; the loop logs it and goes on.
                throw new IllegalStateException("io_uring submission queue full while the completion queue overflows");
            }
        }
        long base = (long) (sqLocalTail & sqMask) * SQE_SIZE;
        sqes.asSlice(base, SQE_SIZE).fill((byte) 0);
        sqes.set(JAVA_BYTE, base, opcode);
        sqes.set(JAVA_INT, base + 4, fd);
        sqes.set(JAVA_LONG, base + 32, userData);
        sqLocalTail++;
        return base;
    }

    void setAddr(long sqe, long addr) {
        sqes.set(JAVA_LONG, sqe + 16, addr);
    }

    void setOff(long sqe, long off) {
        sqes.set(JAVA_LONG, sqe + 8, off);
    }

    void setLen(long sqe, int len) {
        sqes.set(JAVA_INT, sqe + 24, len);
    }

    /** msg_flags, accept_flags, cancel_flags...: the op-specific flags word. */
    void setOpFlags(long sqe, int flags) {
        sqes.set(JAVA_INT, sqe + 28, flags);
    }

    /** The IOSQE_* flags byte (IOSQE_BUFFER_SELECT for a recv from the buffer ring). */
    void setFlags(long sqe, byte flags) {
        sqes.set(JAVA_BYTE, sqe + 1, flags);
    }

    /** buf_group: the provided buffer ring a BUFFER_SELECT op takes its buffer from. */
    void setBufGroup(long sqe, short group) {
        sqes.set(JAVA_SHORT, sqe + 40, group);
    }

    void setIoprio(long sqe, short ioprio) {
        sqes.set(JAVA_SHORT, sqe + 2, ioprio);
    }

    /** Whether any enter happened: before it, the kernel has seen nothing of this ring's SQEs. */
    boolean started() {
        return entered;
    }

    /**
     * At the first enter, on the loop thread: it becomes the only issuer (SINGLE_ISSUER), and registers
     * the ring's fd in its own table, for it alone enters (a registration is per thread).
     */
    private void begin() {
        if (entered) {
            return;
        }
        entered = true;
        if (disabled) {
            int r = sys.ioUringRegister(fd, REGISTER_ENABLE_RINGS, MemorySegment.NULL, 0);
            if (r < 0) {
                throw new IllegalStateException("io_uring_register(ENABLE_RINGS): " + Errno.name(-r));
            }
            disabled = false;
        }
        if (registerRing) {
            registerFd();
        }
    }

    private void registerFd() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment update = arena.allocate(16, 8); // io_uring_rsrc_update {offset, resv, data}
            update.set(JAVA_INT, 0, -1); // any free index: the kernel writes back the one it took
            update.set(JAVA_LONG, 8, fd);
            int r = sys.ioUringRegister(fd, REGISTER_RING_FDS, update, 1);
            if (r == 1) {
                enterFd = update.get(JAVA_INT, 0);
                enterFlags = ENTER_REGISTERED_RING;
                registrar = Thread.currentThread();
            }
            // Otherwise (EINVAL before 5.18, the thread's table full): the plain fd serves as before.
        }
    }

    /** Whether enters go by the registered index (after the first enter, where the kernel allowed it). */
    boolean registered() {
        return enterFlags != 0;
    }

    /** SQEs filled but not yet taken by the kernel. */
    private int pending() {
        begin();
        // Release: the SQEs we wrote are visible before the kernel can see the tail that covers them.
        INT.setRelease(rings, sqTail, sqLocalTail);
        return sqLocalTail - (int) INT.getAcquire(rings, sqHead);
    }

    /** Submits what is queued without waiting (the SQ is full, or the loop is closing). */
    void flush() {
        while (true) {
            int toSubmit = pending();
            if (toSubmit == 0) {
                return;
            }
            int r = sys.ioUringEnter(enterFd, toSubmit, 0, enterFlags, MemorySegment.NULL, 0);
            if (r == -Errno.EBUSY) {
                // The CQ overflowed (the kernel holds the surplus, FEAT_NODROP): flushing it takes room
                // the caller has not made yet. The SQEs stay queued for the next enter.
                return;
            }
            if (r < 0 && r != -Errno.EINTR && r != -Errno.EAGAIN) {
                throw new IllegalStateException("io_uring_enter: " + Errno.name(-r));
            }
        }
    }

    /**
     * Submits everything queued and waits until at least one completion is there or timeoutNanos
     * passes (-1: no limit; 0: do not wait). Retried on EINTR. Returns the completions ready.
     */
    int enter(long timeoutNanos) throws NativeException {
        int flags = ENTER_GETEVENTS | ENTER_EXT_ARG;
        int minComplete = timeoutNanos == 0 ? 0 : 1;
        if (timeoutNanos > 0) {
            timespec.set(JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
            timespec.set(JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
            getEventsArg.set(JAVA_LONG, 16, timespec.address());
        } else {
            getEventsArg.set(JAVA_LONG, 16, 0L);
        }
        if (ready() > 0) {
            minComplete = 0; // do not sleep on completions we have not read yet
        }
        while (true) {
            int toSubmit = pending();
            // After pending(): the first enter registers the fd, and from then on goes by its index.
            int r = sys.ioUringEnter(enterFd, toSubmit, minComplete, flags | enterFlags, getEventsArg, 24);
            if (r >= 0 || r == -Errno.ETIME) {
                break;
            }
            if (r == -Errno.EINTR) {
                continue; // a signal: what was submitted is off the SQ (head moved); wait again
            }
            if (r == -Errno.EBUSY) {
                // CQ overflow: the kernel refuses submissions until we make room. Never silent:
                // the caller counts it; the CQEs we read now make the room, the SQEs wait a turn.
                overflowed = true;
                break;
            }
            throw new NativeException("io_uring_enter", -r);
        }
        return ready();
    }

    /** Set when the kernel reported a CQ overflow since the last look; read and cleared by the poller. */
    boolean overflowed;

    /** Completions posted and not yet consumed. */
    int ready() {
        // Acquire: the CQEs up to the tail are fully written before we read them.
        return (int) INT.getAcquire(rings, cqTail) - cqLocalHead;
    }

    /** Whether the kernel holds completions that did not fit the CQ (flushed by the next enter). */
    boolean cqOverflowPending() {
        return ((int) INT.getAcquire(rings, sqFlags) & SQ_CQ_OVERFLOW) != 0;
    }

    /** Completions the kernel dropped (with FEAT_NODROP: only when it could not allocate). */
    int cqOverflowCount() {
        return (int) INT.getAcquire(rings, cqOverflow);
    }

    long cqeUserData(int i) {
        return rings.get(JAVA_LONG, cqes + (long) ((cqLocalHead + i) & cqMask) * CQE_SIZE);
    }

    int cqeRes(int i) {
        return rings.get(JAVA_INT, cqes + (long) ((cqLocalHead + i) & cqMask) * CQE_SIZE + 8);
    }

    int cqeFlags(int i) {
        return rings.get(JAVA_INT, cqes + (long) ((cqLocalHead + i) & cqMask) * CQE_SIZE + 12);
    }

    /** Hands n CQE slots back to the kernel. */
    void consume(int n) {
        cqLocalHead += n;
        // Release: our reads of those CQEs are done before the kernel may overwrite the slots.
        INT.setRelease(rings, cqHead, cqLocalHead);
    }

    void close() {
        if (registrar == Thread.currentThread()) {
            // The thread's table holds a reference to the ring: unregistered, the close below frees it
            // now rather than at the thread's exit. From another thread the index would name that
            // thread's entry (or none): left to the registrar's exit.
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment update = arena.allocate(16, 8);
                update.set(JAVA_INT, 0, enterFd);
                sys.ioUringRegister(fd, UNREGISTER_RING_FDS, update, 1);
            }
            enterFd = fd;
            enterFlags = 0;
            registrar = null;
        }
        sys.munmap(sqes);
        sys.munmap(rings);
        sys.close(fd);
    }
}
