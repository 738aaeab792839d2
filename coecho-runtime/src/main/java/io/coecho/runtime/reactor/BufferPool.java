package io.coecho.runtime.reactor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

/**
 * Native buffers of one size, lent to the loop's connections only while they need one: a connection
 * that is idle or keeping up holds none, so memory follows the data in flight, not the number of
 * connections.
 *
 * <p>Loop thread only. Keeps at most {@code maxIdle} free buffers; beyond that a returned buffer is
 * dropped and its memory freed by the garbage collector (each comes from an automatic arena).
 */
final class BufferPool {
    private final int bufferSize;
    private final int maxIdle;
    private final ArrayDeque<MemorySegment> free = new ArrayDeque<>();
    private int lent;

    BufferPool(int bufferSize, int maxIdle) {
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
            s = Arena.ofAuto().allocate(bufferSize, 64);
        }
        lent++;
        return s;
    }

    public void release(MemorySegment s) {
        lent--;
        if (free.size() < maxIdle) {
            free.addFirst(s);
        }
    }

    /** Buffers currently lent out (a gauge for metrics and tests). */
    public int lent() {
        return lent;
    }
}
