package io.coecho.runtime.reactor;

import java.lang.foreign.MemorySegment;

/**
 * The rest of a write that must wait for the socket to drain. When it fits a pooled buffer it is
 * copied there, so the caller's source may be a buffer the loop shares (its scratch), which other
 * coroutines reuse while this one waits; a larger source is the caller's own and stays borrowed.
 * Closing gives the pooled buffer back. The loop's {@link LoopStats} count these waits, one place for
 * every transport.
 *
 * <p>Loop thread only; one per blocked write (the slow path), never on the fast path, closed when
 * that write completes or fails. Transport SPI: for the transports' streams, not for applications.
 */
public final class UnsentBytes implements AutoCloseable {
    private final BufferPool pool;
    private final LoopStats stats;
    private final MemorySegment spill;
    private final MemorySegment bytes;

    private UnsentBytes(EventLoop loop, MemorySegment spill, MemorySegment bytes) {
        this.pool = loop.buffers();
        this.stats = loop.stats();
        this.spill = spill;
        this.bytes = bytes;
        stats.writeWaits++;
        stats.writesWaiting++;
    }

    /** Keeps src[sent, end), the rest of a write of src[0, end) on loop that must wait. */
    public static UnsentBytes keep(EventLoop loop, MemorySegment src, long sent, long end) {
        long remaining = end - sent;
        BufferPool pool = loop.buffers();
        if (remaining > pool.bufferSize()) {
            return new UnsentBytes(loop, null, src.asSlice(sent, remaining));
        }
        MemorySegment spill = pool.acquire();
        MemorySegment.copy(src, sent, spill, 0, remaining);
        return new UnsentBytes(loop, spill, spill.asSlice(0, remaining));
    }

    /** The bytes still to send. */
    public MemorySegment bytes() {
        return bytes;
    }

    @Override
    public void close() {
        stats.writesWaiting--;
        if (spill != null) {
            pool.release(spill);
        }
    }
}
