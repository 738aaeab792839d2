package io.coecho.server.udp;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token bucket held in one number, the generic cell rate algorithm: instead of a token count and
 * a refill time it keeps the time at which the bucket would be full again ("theoretical arrival
 * time", TAT). A datagram fits when taking its token would not push TAT more than the burst's worth
 * of time past now. One word of state means one compare-and-set, so the global bucket is shared by
 * every loop without a lock, and the per-source table stores one long per source.
 *
 * <pre>
 *   interval = 1 s / rate      capacity = burst × interval
 *   next     = max(tat, now) + interval
 *   allowed  ⇔ next − now ≤ capacity      (then tat := next)
 * </pre>
 *
 * <p>Thread-safe ({@link #tryTake}); the static helpers are pure. Times are System.nanoTime values,
 * compared by difference so that the clock's wrap-around does not matter.
 */
final class TokenBucket {
    final long interval;
    final long capacity;
    private final AtomicLong tat;

    TokenBucket(int ratePerSecond, int burst, long now) {
        this.interval = interval(ratePerSecond);
        this.capacity = capacity(interval, burst);
        this.tat = new AtomicLong(now);
    }

    /** Nanoseconds per token; at least 1. */
    static long interval(int ratePerSecond) {
        if (ratePerSecond <= 0) {
            throw new IllegalArgumentException("rate must be positive: " + ratePerSecond);
        }
        return Math.max(1, 1_000_000_000L / ratePerSecond);
    }

    /** The burst as time; capped far below overflow. */
    static long capacity(long interval, int burst) {
        return Math.min((long) Math.max(burst, 1) * interval, Long.MAX_VALUE / 4);
    }

    /** The TAT after one more token at now, from the TAT before. */
    static long next(long tat, long now, long interval) {
        return (tat - now < 0 ? now : tat) + interval;
    }

    /** Whether a TAT computed by {@link #next} is within the burst. */
    static boolean fits(long next, long now, long capacity) {
        return next - now <= capacity;
    }

    /** Takes a token if one is there. Any thread. */
    boolean tryTake(long now) {
        while (true) {
            long t = tat.get();
            long n = next(t, now, interval);
            if (!fits(n, now, capacity)) {
                return false;
            }
            if (tat.compareAndSet(t, n)) {
                return true;
            }
        }
    }
}
