package io.coecho.runtime.timer;

import java.util.Arrays;

/**
 * A binary min-heap of {@link Timer}s ordered by deadline: O(log n) schedule, cancel and move,
 * O(1) next deadline, no allocation once a timer exists.
 *
 * <p>Loop thread only: the owning event loop asks for {@link #nextDeadline()} before it waits and
 * calls {@link #expire(long)} after. The clock is whatever the caller passes in (nanoseconds), so
 * tests drive it by hand. Lives as long as its loop; timers still pending when the loop ends never
 * fire.
 */
public final class TimerQueue {
    private Timer[] heap = new Timer[64];
    private int size;

    /** Creates a timer, not yet scheduled. */
    public Timer newTimer(Runnable action) {
        return new Timer(this, action);
    }

    /** Creates a timer and schedules it at deadline. */
    public Timer schedule(long deadline, Runnable action) {
        Timer t = new Timer(this, action);
        move(t, deadline);
        return t;
    }

    public int size() {
        return size;
    }

    /** The earliest deadline, or Long.MAX_VALUE when nothing is scheduled. */
    public long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : heap[0].deadline;
    }

    /**
     * Runs every timer whose deadline is at or before now, earliest first. A timer that an action
     * schedules for a time at or before now runs in the same call, so actions must move forward.
     * Returns how many ran.
     */
    public int expire(long now) {
        int ran = 0;
        while (size > 0 && heap[0].deadline - now <= 0) {
            Timer t = heap[0];
            removeAt(0);
            ran++;
            t.action.run();
        }
        return ran;
    }

    void move(Timer t, long deadline) {
        if (t.queue != this) {
            throw new IllegalArgumentException("timer belongs to another queue");
        }
        if (t.index < 0) {
            t.deadline = deadline;
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            t.index = size;
            heap[size++] = t;
            siftUp(t.index);
            return;
        }
        long old = t.deadline;
        t.deadline = deadline;
        if (deadline - old < 0) {
            siftUp(t.index);
        } else {
            siftDown(t.index);
        }
    }

    void remove(Timer t) {
        if (t.index >= 0) {
            removeAt(t.index);
        }
    }

    private void removeAt(int i) {
        Timer gone = heap[i];
        gone.index = -1;
        size--;
        if (i == size) {
            heap[size] = null;
            return;
        }
        Timer last = heap[size];
        heap[size] = null;
        heap[i] = last;
        last.index = i;
        siftDown(i);
        if (heap[i] == last) {
            siftUp(i);
        }
    }

    private void siftUp(int i) {
        Timer t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Timer p = heap[parent];
            if (t.deadline - p.deadline >= 0) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = t;
        t.index = i;
    }

    private void siftDown(int i) {
        Timer t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].deadline - heap[child].deadline < 0) {
                child = right;
            }
            Timer c = heap[child];
            if (c.deadline - t.deadline >= 0) {
                break;
            }
            heap[i] = c;
            c.index = i;
            i = child;
        }
        heap[i] = t;
        t.index = i;
    }
}
