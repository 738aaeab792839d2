package io.coecho.runtime.reactor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * Native buffers of one size, lent to the loop's connections only while they need one: a connection
 * that is idle or keeping up holds none, so memory follows the data in flight, not the number of
 * connections.
 *
 * <p>Keeps at most {@code maxIdle} free buffers; a buffer returned beyond that is freed at once. Each
 * buffer has a confined arena of its own, closed when the buffer is dropped: an automatic arena would
 * free it only when a garbage collection runs, which in a server that allocates almost nothing may be
 * never, so a burst of slow readers would leave its memory resident for good.
 *
 * <p>The io_uring transport keeps one per loop too, for the buffers the kernel reads from and writes
 * into while an operation is in flight: there a buffer is released only at its operation's
 * completion, and the pool is closed only after the ring (the kernel writes into none of them then).
 *
 * <p>Loop thread only, construction aside (the arenas are the loop thread's). Lifecycle: buffers are
 * made on demand; {@link #close()}, when the owner ends, frees every one, lent or not; a buffer
 * released after that is no longer the pool's.
 */
public final class BufferPool {
    private final int bufferSize;
    private final int maxIdle;
    private final ArrayDeque<MemorySegment> free = new ArrayDeque<>();
    /** Every live buffer's arena, lent or free. A put only when a buffer is made, so no allocation on reuse. */
    private final HashMap<MemorySegment, Arena> arenas = new HashMap<>();
    private int lent;

    public BufferPool(int bufferSize, int maxIdle) {
        if (bufferSize <= 0) {
            throw new IllegalArgumentException("buffer size must be positive: " + bufferSize);
        }
        this.bufferSize = bufferSize;
        this.maxIdle = maxIdle;
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** A buffer of {@link #bufferSize()} bytes; give it back with {@link #release}. */
    public MemorySegment acquire() {
        MemorySegment s = free.pollFirst();
        if (s == null) {
            Arena arena = Arena.ofConfined();
            s = arena.allocate(bufferSize, 64);
            arenas.put(s, arena);
        }
        lent++;
        return s;
    }

    public void release(MemorySegment s) {
        lent--;
        if (free.size() < maxIdle) {
            free.addFirst(s);
        } else {
            Arena arena = arenas.remove(s);
            if (arena != null) { // null: released after close, already freed
                arena.close();
            }
        }
    }

    /** Buffers currently lent out (a gauge for metrics and tests). */
    public int lent() {
        return lent;
    }

    /** Buffers that exist now, lent or free: what the pool holds of native memory, in buffers. */
    public int allocated() {
        return arenas.size();
    }

    /** Frees every buffer. Its owner has ended: nothing (no coroutine, no kernel operation) uses one again. */
    public void close() {
        for (Arena arena : arenas.values()) {
            arena.close();
        }
        arenas.clear();
        free.clear();
    }
}
