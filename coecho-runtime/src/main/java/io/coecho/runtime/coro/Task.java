package io.coecho.runtime.coro;

import io.coecho.runtime.reactor.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/**
 * A lazy, joinable coroutine with a result: nothing runs until {@link #start()} or the first
 * {@link #await()}; then whoever awaits gets the value or the exception the body threw.
 *
 * <p>Threading: created anywhere; the body runs on its loop. {@link #await()} is for coroutines (on
 * any loop); {@link #toFuture()} is for plain threads. Lifecycle: NEW → RUNNING → DONE; a failure
 * that nobody awaits or observes through a future is logged, never silently lost.
 */
public final class Task<T> {
    private static final System.Logger LOG = System.getLogger(Task.class.getName());

    private final EventLoop loop;
    private final String name;
    private final Callable<T> body;
    private final CompletableFuture<T> future = new CompletableFuture<>();
    private final List<Coroutine> waiters = new ArrayList<>(1);
    private boolean started;
    private volatile boolean observed;

    private Task(EventLoop loop, String name, Callable<T> body) {
        this.loop = loop;
        this.name = name;
        this.body = body;
    }

    /** A task that will run body on loop once started. */
    public static <T> Task<T> of(EventLoop loop, String name, Callable<T> body) {
        return new Task<>(loop, name, body);
    }

    /** Starts the task (idempotent). Any thread. */
    public Task<T> start() {
        if (!loop.inLoop()) {
            loop.execute(this::start);
            return this;
        }
        if (!started) {
            started = true;
            Coroutine.spawn(loop, name, this::runBody);
        }
        return this;
    }

    public boolean isDone() {
        return future.isDone();
    }

    /**
     * Starts the task if needed and suspends the calling coroutine until it ends; returns its value
     * or throws its exception.
     */
    public T await() throws Exception {
        observed = true;
        Coroutine self = Coroutine.require();
        if (!future.isDone()) {
            start();
            if (self.loop() == loop) {
                waiters.add(self);
                try {
                    while (!future.isDone()) {
                        Coroutine.suspend();
                    }
                } finally {
                    waiters.remove(self);
                }
            } else {
                // Another loop: wake us through our own loop when the future completes.
                future.whenComplete((v, e) -> self.wake());
                while (!future.isDone()) {
                    Coroutine.suspend();
                }
            }
        }
        return result();
    }

    /** The task as a future, for threads that are not coroutines (starts the task). */
    public CompletableFuture<T> toFuture() {
        observed = true;
        start();
        return future;
    }

    private T result() throws Exception {
        try {
            return future.resultNow();
        } catch (IllegalStateException notValue) {
            Throwable e = future.exceptionNow();
            if (e instanceof Exception ex) {
                throw ex;
            }
            throw (Error) e;
        }
    }

    private void runBody() {
        try {
            future.complete(body.call());
        } catch (Throwable t) {
            future.completeExceptionally(t);
            if (!observed) {
                LOG.log(System.Logger.Level.WARNING, "task " + name + " failed and nobody awaits it", t);
            }
        }
        for (Coroutine w : waiters.toArray(new Coroutine[0])) {
            w.wake();
        }
    }
}
