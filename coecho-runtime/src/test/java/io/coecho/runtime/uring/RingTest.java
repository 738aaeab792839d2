package io.coecho.runtime.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.linux.Syscalls;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ring on its own, no sockets: NOPs carry their user_data through, a wait with nothing to
 * complete ends at its deadline (ETIME is not an error), and the SQ and CQ indices wrap correctly
 * over many times their size (the masks, our local tail and head against the kernel's); the ring's fd
 * registered at the first enter and entered by its index (-Dcoecho.uring.registeredRing), or not.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RingTest {
    @Test
    void aNopCompletesWithItsUserData() throws Exception {
        Ring ring = new Ring(new Syscalls(), 8, 16, true);
        try {
            ring.prepare(Ring.OP_NOP, -1, 0x1234_5678_9abcL);
            assertEquals(1, ring.enter(-1));
            assertEquals(0x1234_5678_9abcL, ring.cqeUserData(0));
            assertEquals(0, ring.cqeRes(0));
            ring.consume(1);
            assertEquals(0, ring.ready());
        } finally {
            ring.close();
        }
    }

    @Test
    void theFirstEnterRegistersTheRingsFdAndLaterEntersGoByItsIndex() throws Exception {
        for (boolean singleIssuer : new boolean[] {true, false}) {
            Ring ring = new Ring(new Syscalls(), 8, 16, singleIssuer, true);
            try {
                assertFalse(ring.registered(), "registered only by the thread that enters");
                for (long i = 1; i <= 20; i++) {
                    ring.prepare(Ring.OP_NOP, -1, i);
                    assertEquals(1, ring.enter(-1));
                    assertTrue(ring.registered(), "the kernel (5.18+) took the ring's fd");
                    assertEquals(i, ring.cqeUserData(0));
                    ring.consume(1);
                }
                assertEquals(0, ring.enter(1_000_000L), "a timed wait by the index ends at its deadline");
            } finally {
                ring.close();
            }
            assertFalse(ring.registered(), "unregistered at close by the thread that registered");
        }
    }

    @Test
    void withTheSwitchOffEntersUseThePlainFd() throws Exception {
        Ring ring = new Ring(new Syscalls(), 8, 16, true, false);
        try {
            ring.prepare(Ring.OP_NOP, -1, 7L);
            assertEquals(1, ring.enter(-1));
            assertFalse(ring.registered());
            assertEquals(7L, ring.cqeUserData(0));
            ring.consume(1);
        } finally {
            ring.close();
        }
    }

    @Test
    void aWaitWithNothingInFlightEndsAtItsDeadline() throws Exception {
        Ring ring = new Ring(new Syscalls(), 8, 16, false);
        try {
            assertEquals(0, ring.enter(1_000_000L)); // 1 ms: ETIME, no completion
            assertEquals(0, ring.enter(0));
        } finally {
            ring.close();
        }
    }

    @Test
    void theIndicesWrapOverManyTimesTheRingsSize() throws Exception {
        Ring ring = new Ring(new Syscalls(), 8, 16, true);
        try {
            long next = 1;
            long expected = 1;
            for (int batch = 0; batch < 30; batch++) {
                for (int i = 0; i < 7; i++) {
                    ring.prepare(Ring.OP_NOP, -1, next++);
                }
                int n = ring.enter(-1);
                while (expected < next) {
                    for (int i = 0; i < n; i++) {
                        assertEquals(expected++, ring.cqeUserData(0));
                        ring.consume(1);
                    }
                    n = expected < next ? ring.enter(-1) : 0;
                }
            }
            assertEquals(211, expected); // 210 NOPs: 26 times the SQ, 13 times the CQ
        } finally {
            ring.close();
        }
    }
}
