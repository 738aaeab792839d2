package io.coecho.server.udp;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Per-source token buckets in a fixed amount of memory: a set-associative table of source address
 * (128 bits, IPv4 as IPv4-mapped) to TAT (see {@link TokenBucket}). A source hashes to a set of
 * {@link #WAYS} slots; a new source takes the slot whose bucket has been full the longest, which
 * loses nothing (a full bucket is what a new source gets anyway) unless the table is so busy that
 * every slot of the set is still refilling. The global limit bounds what such churn can let through.
 *
 * <p>The hash is salted per table, so a flood cannot aim its addresses at one set to push out a
 * victim's entry. Memory: 24 bytes per slot, allocated once; no allocation per datagram.
 *
 * <p>Loop thread only: each loop has its own table for its own socket (with SO_REUSEPORT the kernel
 * spreads one source's ports over the loops, so a source using many ports can get up to one rate per
 * loop).
 */
final class SourceLimits {
    static final int WAYS = 4;

    private final long[] high;
    private final long[] low;
    private final long[] tat;
    private final int setMask;
    private final long salt = ThreadLocalRandom.current().nextLong();
    private final long interval;
    private final long capacity;

    SourceLimits(int ratePerSecond, int burst, int sources) {
        int slots = Integer.highestOneBit(Math.max(sources, WAYS) * 2 - 1);
        this.high = new long[slots];
        this.low = new long[slots];
        this.tat = new long[slots];
        this.setMask = slots / WAYS - 1;
        this.interval = TokenBucket.interval(ratePerSecond);
        this.capacity = TokenBucket.capacity(interval, burst);
    }

    int slots() {
        return tat.length;
    }

    /**
     * Takes a token for the source (addrHigh, addrLow) at now; false when it is over its rate. The
     * all-zero address (unspecified) marks an empty slot, so callers must have refused it already.
     */
    boolean tryTake(long addrHigh, long addrLow, long now) {
        int first = set(addrHigh, addrLow) * WAYS;
        int victim = first;
        long victimAge = Long.MIN_VALUE;
        for (int i = first; i < first + WAYS; i++) {
            if (high[i] == addrHigh && low[i] == addrLow) {
                return take(i, now);
            }
            // Age: how long this slot's bucket has been full (empty slots: oldest of all).
            long age = (high[i] | low[i]) == 0 ? Long.MAX_VALUE : now - tat[i];
            if (age > victimAge) {
                victimAge = age;
                victim = i;
            }
        }
        high[victim] = addrHigh;
        low[victim] = addrLow;
        tat[victim] = now;
        return take(victim, now);
    }

    private boolean take(int slot, long now) {
        long n = TokenBucket.next(tat[slot], now, interval);
        if (!TokenBucket.fits(n, now, capacity)) {
            return false;
        }
        tat[slot] = n;
        return true;
    }

    private int set(long h, long l) {
        long x = (h * 0x9E37_79B9_7F4A_7C15L) ^ l ^ salt;
        x = (x ^ (x >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return (int) (x ^ (x >>> 31)) & setMask;
    }
}
