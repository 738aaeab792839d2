package io.coecho.runtime.coro;

import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.timer.Timer;
import java.time.Duration;
import jdk.internal.vm.Continuation;
import jdk.internal.vm.ContinuationScope;

/**
 * A stackful coroutine on an {@link EventLoop}: code that reads like blocking code and suspends
 * where it would block. The only class that touches {@code jdk.internal.vm.Continuation}, the
 * primitive under virtual threads.
 *
 * <p>Threading: only the owning loop's thread resumes a coroutine; {@link #wake()} from another
 * thread hands the resumption to the loop. Lifecycle: SCHEDULED (spawned) → RUNNING ⇄ SUSPENDED →
 * DONE, after which its frame (the continuation's stack) is garbage. Whoever suspends a coroutine
 * keeps a reference to it and calls {@link #wake()} once; a wake-up for a coroutine that is not
 * suspended is ignored, so a late or duplicate event can never resume it at the wrong point.
 *
 * <p>An exception escaping the body is logged once, with the coroutine's name and loop, and ends only
 * that coroutine; the body's try-with-resources close what it owns.
 */
public final class Coroutine {
    private static final System.Logger LOG = System.getLogger(Coroutine.class.getName());
    private static final ContinuationScope SCOPE = new ContinuationScope("coecho");

    private static final int SCHEDULED = 0;
    private static final int RUNNING = 1;
    private static final int SUSPENDED = 2;
    private static final int DONE = 3;

    /** The body of a coroutine: may throw, may suspend. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    private final EventLoop loop;
    private final String name;
    private final Frame frame;
    private final Runnable resumer = this::resume;
    private int state = SCHEDULED;
    /** Thrown from the current or next suspension point, then cleared (see {@link #interrupt}). */
    private RuntimeException interrupt;

    private Coroutine(EventLoop loop, String name, Body body) {
        this.loop = loop;
        this.name = name;
        this.frame = new Frame(this, body);
    }

    /**
     * Starts body as a fire-and-forget coroutine on loop: it begins on the loop's next turn, and its
     * frame is released when it ends. Any thread.
     */
    public static Coroutine spawn(EventLoop loop, String name, Body body) {
        Coroutine c = new Coroutine(loop, name, body);
        loop.execute(c.resumer);
        return c;
    }

    /** The coroutine running on this thread, or null outside any coroutine. */
    public static Coroutine current() {
        Continuation c = Continuation.getCurrentContinuation(SCOPE);
        return c instanceof Frame f ? f.owner : null;
    }

    /** The running coroutine; fails with a clear message when called outside one. */
    public static Coroutine require() {
        Coroutine c = current();
        if (c == null) {
            throw new IllegalStateException(
                    "this call suspends, so it must run inside a coroutine (Coroutine.spawn or Task); "
                            + "thread " + Thread.currentThread().getName() + " is not in one");
        }
        return c;
    }

    /**
     * Suspends the running coroutine until someone calls {@link #wake()} on it (or {@link #interrupt}:
     * then that exception is thrown from here). The caller must have left a reference to
     * {@link #require()}'s coroutine where the waker finds it, and must clear it in a finally block.
     */
    public static void suspend() {
        Coroutine self = require();
        self.throwInterrupt();
        self.state = SUSPENDED;
        Continuation.yield(SCOPE);
        self.state = RUNNING;
        self.throwInterrupt();
    }

    /** Gives the loop a turn: the coroutine goes to the back of the run queue and suspends. */
    public static void yieldNow() {
        Coroutine self = require();
        self.throwInterrupt();
        self.state = SCHEDULED;
        self.loop.schedule(self.resumer);
        Continuation.yield(SCOPE);
        self.state = RUNNING;
        self.throwInterrupt();
    }

    /** Suspends the running coroutine for at least duration. */
    public static void sleep(Duration duration) {
        Coroutine self = require();
        long deadline = System.nanoTime() + duration.toNanos();
        Timer timer = self.loop.timers().schedule(deadline, self::wake);
        try {
            // Loop: a stray wake-up (say, from a wait this coroutine abandoned) must not cut it short.
            while (timer.isPending()) {
                suspend();
            }
        } finally {
            timer.cancel();
        }
    }

    /**
     * Loads this coroutine's state and its continuation's, and returns something of them: for a
     * poller that warms the cache for a batch of wake-ups before it runs them. Loop thread.
     */
    public int warm() {
        return state + (frame.owner == this ? 1 : 0);
    }

    public EventLoop loop() {
        return loop;
    }

    public String name() {
        return name;
    }

    public boolean isDone() {
        return state == DONE;
    }

    /**
     * Resumes this coroutine if it is suspended. On the loop thread outside any coroutine (event
     * dispatch, timers) it resumes at once; from inside another coroutine it is queued for this
     * turn, so stacks never nest; from another thread it is handed to the loop. Any thread.
     */
    public void wake() {
        if (!loop.inLoop()) {
            loop.execute(this::wake);
            return;
        }
        if (state != SUSPENDED) {
            return;
        }
        if (Continuation.getCurrentContinuation(SCOPE) != null) {
            state = SCHEDULED;
            loop.schedule(resumer);
        } else {
            resume();
        }
    }

    /**
     * Makes the coroutine's current (or next) suspension point throw cause, waking it if suspended.
     * Used for timeouts and cancellation. Loop thread only.
     */
    public void interrupt(RuntimeException cause) {
        if (state == DONE) {
            return;
        }
        interrupt = cause;
        wake();
    }

    private void throwInterrupt() {
        RuntimeException e = interrupt;
        if (e != null) {
            interrupt = null;
            throw e;
        }
    }

    private void resume() {
        if (state == DONE || state == RUNNING) {
            return;
        }
        state = RUNNING;
        frame.run();
        if (frame.isDone()) {
            state = DONE;
        }
    }

    @Override
    public String toString() {
        return "Coroutine[" + name + " on " + loop.name() + "]";
    }

    /** The continuation, carrying a back-reference so {@link #current()} needs no ThreadLocal. */
    private static final class Frame extends Continuation {
        final Coroutine owner;

        Frame(Coroutine owner, Body body) {
            super(SCOPE, new Entry(owner, body));
            this.owner = owner;
        }

        @Override
        protected void onPinned(Continuation.Pinned reason) {
            throw new IllegalStateException("coroutine " + owner.name
                    + " cannot suspend here (" + reason + "): no suspension inside synchronized or native frames");
        }
    }

    /**
     * The continuation's entry: runs the body and logs what escapes it. A class, not a lambda around
     * a static method, for one frame less under every suspended coroutine's stack (the frames of a
     * coroutine that started before the JIT compiled them stay interpreted, and each interpreted
     * frame takes its room in the stack chunk for the connection's life).
     */
    private record Entry(Coroutine owner, Body body) implements Runnable {
        @Override
        public void run() {
            try {
                body.run();
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "coroutine " + owner.name + " on loop " + owner.loop.name()
                        + " ended with an exception", t);
            }
        }
    }
}
