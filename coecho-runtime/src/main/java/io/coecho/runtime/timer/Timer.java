package io.coecho.runtime.timer;

/**
 * One scheduled action in a {@link TimerQueue}: a deadline (nanoTime clock) and what to run.
 *
 * <p>Loop thread only. Lifecycle: idle ⇄ pending (scheduled, until it fires or is cancelled). A
 * timer is reusable: {@link #reschedule} moves it without allocating, which is what an idle timeout
 * re-armed on every read needs.
 */
public final class Timer {
    final TimerQueue queue;
    final Runnable action;
    long deadline;
    /** Position in the queue's heap; -1 when not scheduled. */
    int index = -1;

    Timer(TimerQueue queue, Runnable action) {
        this.queue = queue;
        this.action = action;
    }

    /** When it fires, in the queue's clock (System.nanoTime in a running loop). */
    public long deadline() {
        return deadline;
    }

    public boolean isPending() {
        return index >= 0;
    }

    /** Cancels the timer if pending; a no-op otherwise. O(log n). */
    public void cancel() {
        queue.remove(this);
    }

    /** Schedules (or moves) this timer to fire at deadline. O(log n), no allocation. */
    public void reschedule(long deadline) {
        queue.move(this, deadline);
    }
}
