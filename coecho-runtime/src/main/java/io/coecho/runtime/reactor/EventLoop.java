package io.coecho.runtime.reactor;

import io.coecho.runtime.timer.Timer;
import io.coecho.runtime.timer.TimerQueue;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * One thread, one poller: the reactor. Each turn runs the ready tasks, waits on the poller for at
 * most the time to the next timer, dispatches what became ready, then fires the timers that were due
 * when the wait began (so I/O that arrived before a deadline is always handled before its timer).
 *
 * <p>Threading: at most one loop per thread, and everything the loop owns (its poller, run queue,
 * timers, buffers, and the coroutines it resumes) is touched only by its thread; methods say
 * "loop thread only" or "any thread". Lifecycle: NEW → {@link #start()} → RUNNING → {@link #stop()}
 * → ENDING (the last turn is over; tasks already accepted run, new ones are refused) → TERMINATED
 * (poller closed, with every registration still on it); or NEW → {@link #discard()} → TERMINATED for a
 * loop that is not needed after all.
 */
public final class EventLoop implements Executor {
    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    /** Tasks from other threads taken per turn, so a flood of them cannot starve I/O. */
    private static final int INBOX_BATCH = 1024;

    private final String name;
    private final Poller poller;
    private final TimerQueue timers = new TimerQueue();
    private final ArrayDeque<Runnable> runQueue = new ArrayDeque<>();
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    /** True while the loop is (about to be) blocked in poll: only then must others wake it. */
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final LoopThread thread;
    private final BufferPool buffers;
    private final MemorySegment scratch;
    private final LoopStats stats = new LoopStats();
    private volatile boolean stopRequested;
    /** Set once the loop's last turn is over: from then on tasks are refused (see tryExecute). */
    private volatile boolean refusing;

    /**
     * A loop whose poller is made by pollerFactory (given this loop, so the poller can resume its
     * coroutines). bufferSize sizes the loop's scratch buffer and pooled buffers.
     */
    public EventLoop(String name, Function<EventLoop, Poller> pollerFactory, int bufferSize) {
        this.name = name;
        this.buffers = new BufferPool(bufferSize, 256);
        this.scratch = Arena.ofAuto().allocate(bufferSize, 64);
        this.thread = new LoopThread(this, name);
        this.poller = pollerFactory.apply(this);
    }

    /** The loop whose thread is calling, or null. */
    public static EventLoop current() {
        return Thread.currentThread() instanceof LoopThread t ? t.loop : null;
    }

    public String name() {
        return name;
    }

    public Poller poller() {
        return poller;
    }

    /** Buffers lent to connections while they hold unsent data. Loop thread only. */
    BufferPool buffers() {
        return buffers;
    }

    /**
     * A buffer the loop's coroutines may read into and must be done with before they suspend: one
     * coroutine runs at a time, so one buffer serves them all. Loop thread only.
     */
    public MemorySegment scratch() {
        return scratch;
    }

    /** Counters of this loop's work (turns, busy time); written by the loop thread only. */
    public LoopStats stats() {
        return stats;
    }

    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Starts the loop's thread. */
    public EventLoop start() {
        if (isTerminated()) {
            throw new IllegalStateException(this + " was discarded");
        }
        thread.start();
        return this;
    }

    /**
     * Releases a loop that was never started: closes its poller, and with it whatever was registered
     * there. For a start-up that failed half-way; the loop is TERMINATED and cannot be started, and
     * refuses tasks. Any thread (no loop thread owns the loop yet).
     */
    public void discard() {
        if (thread.getState() != Thread.State.NEW || isTerminated()) {
            throw new IllegalStateException(this + " was started or discarded already");
        }
        stopRequested = true;
        refusing = true;
        poller.close();
        terminated.countDown();
    }

    /**
     * Runs task on the loop thread, after what is already queued. Any thread. Once the loop has ended
     * the task is dropped: a task that owns something (a socket, a slot) goes through
     * {@link #tryExecute} instead, so that its caller can release it.
     */
    @Override
    public void execute(Runnable task) {
        tryExecute(task);
    }

    /**
     * Runs task on the loop thread, after what is already queued, and returns true; or returns false
     * when the loop has ended (stopped, or died), and then the task never runs and the caller still
     * owns whatever it carries. A task accepted here runs even if the loop stops at once: the loop
     * runs the tasks it accepted before it closes its poller. Any thread.
     */
    public boolean tryExecute(Runnable task) {
        if (inLoop()) {
            if (refusing) {
                return false;
            }
            runQueue.addLast(task);
            return true;
        }
        inbox.add(task);
        // The loop sets refusing, then takes what is left in the inbox. Seeing refusing here, the
        // task may have been taken already (it runs) or not (then remove it, and it never will):
        // whichever of the two removes it decides, so a task is never both refused and run, or lost.
        if (refusing && inbox.remove(task)) {
            return false;
        }
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            poller.wakeup();
        }
        return true;
    }

    /** Queues task for this turn or the next. Loop thread only: no wakeup, no atomics. */
    public void schedule(Runnable task) {
        runQueue.addLast(task);
    }

    /** Runs action after delay. Loop thread only. */
    public Timer schedule(Duration delay, Runnable action) {
        return timers.schedule(System.nanoTime() + delay.toNanos(), action);
    }

    /** The loop's timer queue (deadlines on the System.nanoTime clock). Loop thread only. */
    public TimerQueue timers() {
        return timers;
    }

    /** Asks the loop to stop after its current turn. Any thread; idempotent. */
    public void stop() {
        stopRequested = true;
        if (!inLoop()) {
            poller.wakeup();
        }
    }

    public boolean isTerminated() {
        return terminated.getCount() == 0;
    }

    /** Waits for the loop thread to finish; true if it did within timeout. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void run() {
        try {
            while (!stopRequested) {
                turn();
            }
        } finally {
            refusing = true;
            runAccepted();
            try {
                poller.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "loop " + name + ": closing the poller failed", e);
            }
            buffers.close(); // on this thread: their arenas are confined to it
            terminated.countDown();
        }
    }

    private void turn() {
        long start = System.nanoTime();
        runTasks();
        int timeout = pollTimeout();
        if (timeout != 0) {
            sleeping.set(true);
            // A task queued between our check and the flag would find sleeping=false and not wake
            // us: look once more now that the flag is visible.
            if (!inbox.isEmpty()) {
                timeout = 0;
            }
        }
        long beforeWait = System.nanoTime();
        stats.pollStarted = beforeWait;
        int n;
        try {
            n = poller.poll(timeout);
        } catch (IOException | RuntimeException e) {
            // Never spin on a failing poller: log, pause, try again.
            LOG.log(System.Logger.Level.ERROR, "loop " + name + ": poll failed; retrying in 100 ms", e);
            LockSupport.parkNanos(100_000_000L);
            expireTimers(beforeWait); // timers keep firing (a shutdown deadline) while the poller fails
            return;
        } finally {
            sleeping.set(false);
        }
        long afterWait = System.nanoTime();
        poller.dispatch(n);
        // Timers last, and only those due by the time this poll began: whatever arrived before their
        // deadline has then been dispatched first. A timer due later waits for the next turn's poll
        // (a poll(0), as its deadline has passed). Without this, after a stall of the whole process
        // (SIGSTOP, a long GC pause, a frozen VM) the turn after the stall fired the idle watchdogs
        // before the poll that delivered the requests sent meanwhile, and closed busy connections
        // with their requests unread (ProcessPauseIT).
        expireTimers(beforeWait);
        stats.turns++;
        stats.events += n;
        stats.busyNanos += (beforeWait - start) + (System.nanoTime() - afterWait);
    }

    private int pollTimeout() {
        if (!runQueue.isEmpty() || !inbox.isEmpty() || stopRequested) {
            return 0;
        }
        long next = timers.nextDeadline();
        if (next == Long.MAX_VALUE) {
            return -1;
        }
        long nanos = next - System.nanoTime();
        if (nanos <= 0) {
            return 0;
        }
        // Round up: a timer due in 0.3 ms must wait 1 ms, not 0 (a 0 timeout would spin until then).
        long millis = (nanos + 999_999) / 1_000_000;
        return (int) Math.min(millis, Integer.MAX_VALUE);
    }

    private void runTasks() {
        // Only the tasks queued before this turn: one re-queued by a running task (a coroutine
        // yielding its turn) waits for the next, after the poller has had its say.
        for (int n = runQueue.size(); n > 0; n--) {
            runSafely(runQueue.pollFirst());
        }
        for (int n = INBOX_BATCH; n > 0; n--) {
            Runnable task = inbox.poll();
            if (task == null) {
                break;
            }
            runSafely(task);
        }
    }

    /**
     * After the last turn: runs the tasks other threads gave before the loop began refusing them,
     * which their callers were told would run (tasks queued from the loop itself for a next turn
     * are not run: there is none).
     */
    private void runAccepted() {
        for (Runnable task = inbox.poll(); task != null; task = inbox.poll()) {
            runSafely(task);
        }
    }

    /** Fires due timers; one that throws is logged like a failed task and the rest still fire. */
    private void expireTimers(long now) {
        while (true) {
            try {
                timers.expire(now);
                return;
            } catch (Throwable t) {
                // The failed timer left the queue before it ran: go on with the others.
                LOG.log(System.Logger.Level.ERROR, "loop " + name + ": timer failed", t);
            }
        }
    }

    private void runSafely(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "loop " + name + ": task failed", t);
        }
    }

    @Override
    public String toString() {
        return "EventLoop[" + name + "]";
    }

    /** The loop's thread: lets {@link #current()} find the loop without a ThreadLocal. */
    private static final class LoopThread extends Thread {
        final EventLoop loop;

        LoopThread(EventLoop loop, String name) {
            super(name);
            this.loop = loop;
            setDaemon(false);
        }

        @Override
        public void run() {
            loop.run();
        }
    }
}
