package io.coecho.server.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The GCRA token bucket on a hand-driven clock, including one near the nanoTime wrap-around. */
class TokenBucketTest {
    private static final long SECOND = 1_000_000_000L;

    private static int takes(TokenBucket b, long now, int tries) {
        int n = 0;
        for (int i = 0; i < tries; i++) {
            if (b.tryTake(now)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aFullBucketGivesItsBurstThenItsRate() {
        long t = 42;
        TokenBucket b = new TokenBucket(10, 5, t);
        assertEquals(5, takes(b, t, 100), "the burst");
        assertFalse(b.tryTake(t + SECOND / 10 - 1), "nothing before a tenth of a second");
        assertTrue(b.tryTake(t + SECOND / 10), "one token per tenth of a second");
        assertEquals(5, takes(b, t + SECOND + SECOND / 10, 100), "a second later: full again, to its burst");
    }

    @Test
    void aQuietBucketRefillsOnlyUpToItsBurst() {
        TokenBucket b = new TokenBucket(100, 3, 0);
        assertEquals(3, takes(b, 0, 10));
        assertEquals(3, takes(b, 3600 * SECOND, 10), "an hour of quiet still gives 3");
    }

    @Test
    void worksAcrossTheClockWrapAround() {
        long t = Long.MAX_VALUE - SECOND / 2;
        TokenBucket b = new TokenBucket(2, 1, t);
        assertTrue(b.tryTake(t));
        assertFalse(b.tryTake(t + SECOND / 4));
        assertTrue(b.tryTake(t + SECOND / 2 + 1), "past the wrap");
    }

    @Test
    void aHugeBurstDoesNotOverflow() {
        TokenBucket b = new TokenBucket(1, Integer.MAX_VALUE, 0);
        assertEquals(1000, takes(b, 0, 1000));
    }
}
