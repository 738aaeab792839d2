package io.coecho.runtime.reactor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Poller} with no file descriptors: "I/O events" are Runnables that any thread may post,
 * and the loop runs them from {@link #dispatch} as a real poller dispatches readiness. Lets the runtime
 * (loop, timers, coroutines, tasks) be tested without sockets.
 *
 * <p>{@link #poll} on the loop thread only; {@link #post} and {@link #wakeup} from any thread.
 */
public final class QueuePoller implements Poller {
    private static final Runnable WAKEUP = () -> {};

    private final BlockingQueue<Runnable> events = new LinkedBlockingQueue<>();
    /** What the last poll took, for dispatch. Loop thread only. */
    private final List<Runnable> ready = new ArrayList<>();
    private volatile boolean closed;

    /** A new, not yet started loop on a QueuePoller. */
    public static EventLoop newLoop(String name) {
        return new EventLoop(name, loop -> new QueuePoller(), 4096);
    }

    /** The poller of a loop made by {@link #newLoop}. */
    public static QueuePoller of(EventLoop loop) {
        return (QueuePoller) loop.poller();
    }

    /** Queues an event for the loop to dispatch in its next poll. Any thread. */
    public void post(Runnable event) {
        events.add(event);
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public int poll(int timeoutMillis) {
        Runnable first;
        try {
            first = timeoutMillis < 0 ? events.take()
                    : timeoutMillis == 0 ? events.poll() : events.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        for (Runnable e = first; e != null; e = events.poll()) {
            if (e != WAKEUP) {
                ready.add(e);
            }
        }
        return ready.size();
    }

    @Override
    public void dispatch(int count) {
        List<Runnable> batch = List.copyOf(ready);
        ready.clear();
        batch.forEach(Runnable::run);
    }

    @Override
    public void wakeup() {
        events.add(WAKEUP);
    }

    @Override
    public void close() {
        closed = true;
    }
}
