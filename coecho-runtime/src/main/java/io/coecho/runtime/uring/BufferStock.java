package io.coecho.runtime.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * The buffers the kernel reads from and writes into while an operation is in flight. The loop's
 * scratch buffer cannot serve: its coroutines reuse it as soon as one suspends, and with io_uring
 * the kernel fills the buffer after the submitter has suspended. A buffer is lent to one operation
 * and comes back only after that operation's completion (never at a cancel or an exception: the
 * kernel may still be using it).
 *
 * <p>Loop thread only. Buffers beyond the idle limit are left to the GC (an automatic arena each).
 */
final class BufferStock {
    private final int size;
    private final int idleLimit;
    private final ArrayDeque<MemorySegment> idle = new ArrayDeque<>();

    BufferStock(int size, int idleLimit) {
        this.size = size;
        this.idleLimit = idleLimit;
    }

    int size() {
        return size;
    }

    MemorySegment acquire() {
        MemorySegment b = idle.pollFirst();
        return b != null ? b : Arena.ofAuto().allocate(size, 64);
    }

    void release(MemorySegment b) {
        if (idle.size() < idleLimit) {
            idle.addFirst(b);
        }
    }
}
