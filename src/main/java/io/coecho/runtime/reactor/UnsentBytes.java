package io.coecho.runtime.reactor;

import java.lang.foreign.MemorySegment;

/**
 * The rest of a write that must wait for the socket to drain. When it fits a pooled buffer it is
 * copied there, so the caller's source may be a buffer the loop shares (its scratch), which other
 * coroutines reuse while this one waits; a larger source is the caller's own and stays borrowed.
 * Closing gives the pooled buffer back.
 *
 * <p>Loop thread only; one per blocked write (the slow path), never on the fast path.
 */
public final class UnsentBytes implements AutoCloseable {
    private final BufferPool pool;
    private final MemorySegment spill;
    private final MemorySegment bytes;

    private UnsentBytes(BufferPool pool, MemorySegment spill, MemorySegment bytes) {
        this.pool = pool;
        this.spill = spill;
        this.bytes = bytes;
    }

    /** Keeps src from offset sent on. */
    public static UnsentBytes keep(BufferPool pool, MemorySegment src, long sent) {
        long remaining = src.byteSize() - sent;
        if (remaining > pool.bufferSize()) {
            return new UnsentBytes(pool, null, src.asSlice(sent));
        }
        MemorySegment spill = pool.acquire();
        MemorySegment.copy(src, sent, spill, 0, remaining);
        return new UnsentBytes(pool, spill, spill.asSlice(0, remaining));
    }

    /** The bytes still to send. */
    public MemorySegment bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (spill != null) {
            pool.release(spill);
        }
    }
}
