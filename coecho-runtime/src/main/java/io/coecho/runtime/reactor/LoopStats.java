package io.coecho.runtime.reactor;

/**
 * What one loop has done: turns, events dispatched, time spent working rather than waiting.
 *
 * <p>Written by the loop thread only, with plain stores (no atomics on the hot path); other threads
 * read possibly stale values, which is all a metrics scrape needs. Lives as long as its loop.
 */
public final class LoopStats {
    long turns;
    long events;
    long busyNanos;
    long writeWaits;
    long writesWaiting;
    long pollStarted;

    public long turns() {
        return turns;
    }

    public long events() {
        return events;
    }

    /** Writes that had to wait for a peer to read (the socket's send buffer was full), in all. */
    public long writeWaits() {
        return writeWaits;
    }

    /** Writes waiting for a peer to read right now: connections held up by slow readers. */
    public long writesWaiting() {
        return writesWaiting;
    }

    /**
     * nanoTime when the current turn's poll began (between turns: the last one's). A write queued
     * for the poller (io_uring) goes out in that poll, so after a stall of the process it is the time
     * such a write's bytes left. Loop thread.
     */
    public long pollStartedNanos() {
        return pollStarted;
    }

    /** Nanoseconds the loop spent outside its poller's wait. */
    public long busyNanos() {
        return busyNanos;
    }
}
