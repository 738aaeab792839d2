package io.coecho.runtime.reactor;

/**
 * What one loop has done: turns, events dispatched, time spent working rather than waiting.
 *
 * <p>Written by the loop thread only, with plain stores (no atomics on the hot path); other threads
 * read possibly stale values, which is all a metrics scrape needs.
 */
public final class LoopStats {
    long turns;
    long events;
    long busyNanos;

    public long turns() {
        return turns;
    }

    public long events() {
        return events;
    }

    /** Nanoseconds the loop spent outside its poller's wait. */
    public long busyNanos() {
        return busyNanos;
    }
}
