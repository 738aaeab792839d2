package io.coecho.server.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The per-source table: independent buckets, fixed memory, and whom it forgets when full. */
class SourceLimitsTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void eachSourceHasItsOwnBucket() {
        SourceLimits t = new SourceLimits(1, 2, 64);
        assertTrue(t.tryTake(0, 1, 0));
        assertTrue(t.tryTake(0, 1, 0));
        assertFalse(t.tryTake(0, 1, 0));
        assertTrue(t.tryTake(0, 2, 0), "another source is not affected");
        assertTrue(t.tryTake(0, 1, SECOND), "refilled a second later");
    }

    @Test
    void memoryIsFixedHoweverManySourcesCome() {
        SourceLimits t = new SourceLimits(1, 1, 1000);
        assertEquals(1024, t.slots());
        for (long i = 1; i <= 1_000_000; i++) {
            assertTrue(t.tryTake(i, i, 0), "a new source always starts with a full bucket");
        }
        assertEquals(1024, t.slots());
    }

    @Test
    void aBusySourceIsRememberedWhileQuietOnesComeAndGo() {
        SourceLimits t = new SourceLimits(1, 1, 16);
        long now = 10 * SECOND;
        assertTrue(t.tryTake(0, 7, now));
        // Many one-off sources, each quiet since long ago: the busy source's slot (still refilling)
        // is never the one given up, as long as its set has a slot that is full.
        for (long i = 100; i < 10_000; i++) {
            t.tryTake(0, i, now - 5 * SECOND);
            assertFalse(t.tryTake(0, 7, now), "source 7 still limited after " + i);
        }
    }
}
