package io.coecho.runtime.uring;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.coecho.runtime.linux.NativeException;
import io.coecho.runtime.linux.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * A provided buffer ring (IORING_REGISTER_PBUF_RING), shared by the loop's connections: a multishot
 * recv takes the next buffer the kernel holds when data arrives, so memory follows data in flight
 * rather than connections. A buffer is out (ours) from the CQE that names it until {@link #recycle}
 * puts it back at the tail.
 *
 * <pre>
 *   ring (entries x 16 B, page-aligned):  {addr u64, len u32, bid u16, resv u16} ...
 *                                          the first entry's resv is the tail (u16 at offset 14)
 *   kernel: head .. tail (buffers it may fill)     us: tail (buffers we gave back)
 *   slab: entries x bufferSize bytes, buffer bid at bid x bufferSize
 * </pre>
 *
 * <p>Memory ordering: each entry is written plainly, then the tail is stored with release, so the
 * kernel never sees a tail that covers an entry not yet written (the kernel reads it with acquire).
 *
 * <p>Loop thread only, except construction (with the poller, before the ring is enabled) and
 * {@link #unregister} and {@link #free} at the poller's end: unregistered first (no recv can pick a
 * buffer any more, the ring's pages are unpinned), then the ring's fd closed (no recv in flight any
 * more, whether or not its completion was seen), then freed, also when the end came with ops in
 * flight.
 */
final class BufferRing {
    private static final int REGISTER_PBUF_RING = 22;
    private static final int UNREGISTER_PBUF_RING = 23;
    private static final int PAGE = 4096;
    private static final VarHandle SHORT = JAVA_SHORT.varHandle();

    /** The ring's size: entries (a power of two, at most 32,768) buffers of bufferSize bytes. */
    record Shape(int entries, int bufferSize) {
        Shape {
            if (entries < 1 || entries > 32768 || Integer.bitCount(entries) != 1) {
                throw new IllegalArgumentException("buffer ring entries must be a power of two up to 32768, got " + entries);
            }
            if (bufferSize < 64 || bufferSize > 1 << 20) {
                throw new IllegalArgumentException("buffer ring buffer size must be 64 B .. 1 MiB, got " + bufferSize);
            }
        }

        /**
         * From -Dcoecho.uring.multishot (default true), -Dcoecho.uring.bufferRingEntries (4096) and
         * -Dcoecho.uring.bufferRingSize (4096 bytes); null when multishot is off.
         */
        static Shape fromProperties() {
            if (!Boolean.parseBoolean(System.getProperty("coecho.uring.multishot", "true"))) {
                return null;
            }
            return new Shape(Integer.getInteger("coecho.uring.bufferRingEntries", 4096),
                    Integer.getInteger("coecho.uring.bufferRingSize", 4096));
        }
    }

    final int groupId;
    final int bufferSize;
    private final int entries;
    private final int mask;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ring;
    private final MemorySegment slab;
    private int tail;
    /** Buffers named by CQEs and not yet given back: the memory the loop's connections hold. */
    private int out;
    private int peakOut;
    private long dry;

    /** Registers the ring as group groupId of the io_uring ringFd; throws with the errno if refused. */
    BufferRing(Syscalls sys, int ringFd, int groupId, Shape shape) throws NativeException {
        this.groupId = groupId;
        this.entries = shape.entries();
        this.bufferSize = shape.bufferSize();
        this.mask = entries - 1;
        long ringBytes = ((16L * entries + PAGE - 1) / PAGE) * PAGE;
        this.ring = arena.allocate(ringBytes, PAGE);
        this.slab = arena.allocate((long) entries * bufferSize, PAGE);
        MemorySegment reg = arena.allocate(40, 8); // io_uring_buf_reg
        reg.set(JAVA_LONG, 0, ring.address());
        reg.set(JAVA_INT, 8, entries);
        reg.set(JAVA_SHORT, 12, (short) groupId);
        int r = sys.ioUringRegister(ringFd, REGISTER_PBUF_RING, reg, 1);
        if (r < 0) {
            arena.close();
            throw new NativeException("io_uring_register(PBUF_RING)", -r);
        }
        for (int bid = 0; bid < entries; bid++) {
            put(bid);
        }
        publish();
    }

    /** Buffer bid's bytes, the first len of them as the kernel filled them. */
    MemorySegment buffer(int bid, int len) {
        return slab.asSlice((long) bid * bufferSize, len);
    }

    /**
     * Copies k bytes of buffer bid, from offset from, to dst at dstOffset. The read path's copy:
     * straight from the slab, because a slice per read (as {@link #buffer} makes) is an object per
     * echo that escape analysis does not remove, and at 10,000 connections that garbage (about 6 MB/s)
     * grew the heap, and the resident set with it, for as long as the server ran.
     */
    void copyOut(int bid, int from, MemorySegment dst, long dstOffset, int k) {
        MemorySegment.copy(slab, (long) bid * bufferSize + from, dst, dstOffset, k);
    }

    /** A CQE named buffer bid: it is ours until {@link #recycle}. */
    void taken() {
        out++;
        if (out > peakOut) {
            peakOut = out;
        }
    }

    /** Gives buffer bid back to the kernel. */
    void recycle(int bid) {
        out--;
        put(bid);
        publish();
    }

    private void put(int bid) {
        long e = (long) (tail & mask) * 16;
        ring.set(JAVA_LONG, e, slab.address() + (long) bid * bufferSize);
        ring.set(JAVA_INT, e + 8, bufferSize);
        ring.set(JAVA_SHORT, e + 12, (short) bid);
        tail++;
    }

    private void publish() {
        // Release: the entries written above are visible before the tail that covers them.
        SHORT.setRelease(ring, 14L, (short) tail);
    }

    /** A multishot recv ended with ENOBUFS: counted. */
    void ranDry() {
        dry++;
    }

    /** Buffers held by connections now (taken, not recycled). */
    int out() {
        return out;
    }

    int peakOut() {
        return peakOut;
    }

    long dryCount() {
        return dry;
    }

    int entries() {
        return entries;
    }

    /**
     * Takes the ring back from the kernel (IORING_UNREGISTER_PBUF_RING): from then on no recv can pick
     * a buffer of it, and the kernel lets go of the ring's pinned pages. On the issuer thread (or
     * before the ring was enabled). Returns 0 or -errno; the ring's fd closing does the same later.
     */
    int unregister(Syscalls sys, int ringFd) {
        MemorySegment reg = arena.allocate(40, 8); // io_uring_buf_reg: only bgid counts here
        reg.set(JAVA_SHORT, 12, (short) groupId);
        return sys.ioUringRegister(ringFd, UNREGISTER_PBUF_RING, reg, 1);
    }

    /**
     * Frees the memory; only once the kernel can no longer write into it: unregistered, and the
     * ring's fd closed (which ends whatever recv was still in flight).
     */
    void free() {
        arena.close();
    }

    /** Whether the memory is still allocated (not yet {@link #free}d). */
    boolean allocated() {
        return arena.scope().isAlive();
    }
}
