package io.coecho.runtime.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.runtime.linux.Syscalls;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ring on its own, no sockets: NOPs carry their user_data through, a wait with nothing to
 * complete ends at its deadline (ETIME is not an error), and the SQ and CQ indices wrap correctly
 * over many times their size (the masks, our local tail and head against the kernel's).
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
