package io.coecho.server.blocking;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The blocking engines' supervisor: a blocked read or write cannot time out by itself, so this
 * thread looks at every connection now and then and closes those idle or stuck writing too long. It
 * also cuts what is left when the shutdown timeout passes, and says when the server has terminated.
 *
 * <p>Runs on its own platform thread (not a daemon: it keeps the JVM alive while the server runs).
 * {@link #shutdownBy} and {@link #poke} are safe from any thread. Lifecycle: WATCHING → CUTTING (the
 * shutdown deadline passed) → TERMINATED (acceptor gone, no connection left).
 */
final class Watchdog implements Runnable {
    private static final long MIN_PERIOD = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long MAX_PERIOD = TimeUnit.SECONDS.toNanos(1);
    /** A scan late by more than this (and more than a period) follows a stall of the process. */
    private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final BlockingServer server;
    private final long idleNanos;
    private final long writeNanos;
    private final long headerNanos;
    /**
     * How often it scans: a quarter of the shortest timeout (the PROXY header's too), so a timeout
     * fires at most 25% late.
     */
    private final long periodNanos;
    private final Object lock = new Object();
    private long cutAt = Long.MAX_VALUE; // guarded by lock
    /** Counts pokes, so that one arriving while the watchdog works is not lost. Guarded by lock. */
    private long pokes;
    private final CountDownLatch terminated = new CountDownLatch(1);

    Watchdog(BlockingServer server, Duration idleTimeout, Duration writeTimeout, Duration headerTimeout) {
        this.server = server;
        this.idleNanos = idleTimeout.toNanos();
        this.writeNanos = writeTimeout.toNanos();
        this.headerNanos = headerTimeout.toNanos();
        long shortest = headerNanos > 0 ? headerNanos : Long.MAX_VALUE;
        if (idleNanos > 0) {
            shortest = Math.min(shortest, idleNanos);
        }
        if (writeNanos > 0) {
            shortest = Math.min(shortest, writeNanos);
        }
        this.periodNanos = shortest == Long.MAX_VALUE ? 0 : Math.clamp(shortest / 4, MIN_PERIOD, MAX_PERIOD);
    }

    /** Whether connections need to keep timestamps at all. */
    boolean watchesTimeouts() {
        return periodNanos > 0;
    }

    /** How long a PROXY header may take, in nanoseconds (0: no limit). */
    long headerNanos() {
        return headerNanos;
    }

    /** Cut whatever is still open at this nanoTime (the earliest of all calls wins). Any thread. */
    void shutdownBy(long deadline) {
        synchronized (lock) {
            cutAt = Math.min(cutAt, deadline);
            pokes++;
            lock.notifyAll();
        }
    }

    /** Something the watchdog waits for may have changed (a connection or the acceptor ended). */
    void poke() {
        synchronized (lock) {
            pokes++;
            lock.notifyAll();
        }
    }

    boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        try {
            long nextScan = periodNanos > 0 ? System.nanoTime() + periodNanos : Long.MAX_VALUE;
            while (true) {
                long now = System.nanoTime();
                long deadline;
                long seen;
                synchronized (lock) {
                    deadline = cutAt;
                    seen = pokes;
                }
                boolean cutting = now - deadline >= 0;
                if (cutting) {
                    // Repeats while connections remain: one accepted during the cut is cut too.
                    server.cutAll();
                }
                if (now - nextScan >= 0) {
                    // A scan much later than planned means the process was stalled (SIGSTOP, a long GC
                    // pause, a frozen VM): the connections' threads have not run since either, so their
                    // timestamps are stale and what arrived meanwhile is unread or not yet stamped. Judge
                    // no timeout now; the next scan, a period on, sees them after they ran (ProcessPauseIT).
                    if (now - nextScan < Math.max(periodNanos, STALL_NANOS)) {
                        for (BlockingConnection c : server.connections()) {
                            c.checkTimeouts(now, idleNanos, writeNanos);
                        }
                    }
                    nextScan = now + periodNanos;
                }
                synchronized (lock) {
                    if (server.isFinished()) {
                        return;
                    }
                    if (pokes != seen) {
                        continue; // something changed while we worked: look again first
                    }
                    // Past the deadline only pokes (a connection ended) matter, not the deadline.
                    long wakeAt = cutting ? nextScan : Math.min(nextScan, cutAt);
                    if (wakeAt == Long.MAX_VALUE) {
                        lock.wait();
                    } else {
                        long left = wakeAt - System.nanoTime();
                        if (left > 0) {
                            // Rounded up: a sub-millisecond wait must not become a busy loop.
                            lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999)));
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            // Nobody interrupts this thread; if someone does, stop watching and end as terminated.
            server.cutAll();
        } finally {
            terminated.countDown();
        }
    }
}
