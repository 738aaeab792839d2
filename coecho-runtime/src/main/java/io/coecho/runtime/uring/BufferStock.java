package io.coecho.runtime.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * The buffers the kernel reads from and writes into while an operation is in flight. The loop's
 * scratch buffer cannot serve: its coroutines reuse it as soon as one suspends, and with io_uring
 * the kernel fills the buffer after the submitter has suspended. A buffer is lent to one operation
 * and comes back only after that operation's completion (never at a cancel or an exception: the
 * kernel may still be using it).
 *
 * <p>Each buffer has a confined arena of its own, as in the loop's {@code BufferPool}: one returned
 * beyond the idle limit is freed at once, and {@link #close} frees every one, lent or not, when the
 * poller ends; an automatic arena would free it only at a garbage collection that may never come,
 * and only once nothing (an op left in the poller's table) reaches it.
 *
 * <p>Loop thread only (the arenas are the loop thread's). Lifecycle: buffers made on demand; closed
 * with the poller, after its ring: the kernel writes into none of them any more.
 */
final class BufferStock {
    private final int size;
    private final int idleLimit;
    private final ArrayDeque<MemorySegment> idle = new ArrayDeque<>();
    /** Every live buffer's arena, lent or idle; a put only when a buffer is made. */
    private final HashMap<MemorySegment, Arena> arenas = new HashMap<>();

    BufferStock(int size, int idleLimit) {
        this.size = size;
        this.idleLimit = idleLimit;
    }

    int size() {
        return size;
    }

    MemorySegment acquire() {
        MemorySegment b = idle.pollFirst();
        if (b == null) {
            Arena arena = Arena.ofConfined();
            b = arena.allocate(size, 64);
            arenas.put(b, arena);
        }
        return b;
    }

    void release(MemorySegment b) {
        if (idle.size() < idleLimit) {
            idle.addFirst(b);
        } else {
            Arena arena = arenas.remove(b);
            if (arena != null) {
                arena.close();
            }
        }
    }

    /** Buffers that exist now, lent or idle: what the stock holds of native memory, in buffers. */
    int allocated() {
        return arenas.size();
    }

    /**
     * Frees every buffer, those still lent to an op included: only once the ring is closed, so that the
     * kernel writes into none of them. A buffer released later is not the stock's any more.
     */
    void close() {
        for (Arena arena : arenas.values()) {
            arena.close();
        }
        arenas.clear();
        idle.clear();
    }
}
