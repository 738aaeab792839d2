package io.coecho.runtime.timer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The timer heap, driven by explicit clock values: no loop, no waiting. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class TimerQueueTest {
    private final TimerQueue queue = new TimerQueue();
    private final List<String> fired = new ArrayList<>();

    private Timer at(long deadline, String name) {
        return queue.schedule(deadline, () -> fired.add(name));
    }

    @Test
    void firesDueTimersInDeadlineOrder() {
        at(30, "c");
        at(10, "a");
        at(20, "b");
        assertEquals(10, queue.nextDeadline());
        assertEquals(1, queue.expire(15));
        assertEquals(List.of("a"), fired);
        assertEquals(20, queue.nextDeadline());
        assertEquals(2, queue.expire(30)); // a deadline equal to now is due
        assertEquals(List.of("a", "b", "c"), fired);
        assertEquals(Long.MAX_VALUE, queue.nextDeadline());
        assertEquals(0, queue.expire(1_000));
    }

    @Test
    void cancelledTimerNeverFires() {
        at(10, "a");
        Timer b = at(20, "b");
        at(30, "c");
        b.cancel();
        assertFalse(b.isPending());
        assertEquals(2, queue.size());
        b.cancel(); // twice: a no-op
        queue.expire(100);
        assertEquals(List.of("a", "c"), fired);
        Timer late = at(200, "d");
        queue.expire(300);
        late.cancel(); // after it fired: a no-op
        assertEquals(0, queue.size());
    }

    @Test
    void rescheduleMovesTheSameTimerWithoutAllocating() {
        Timer t = queue.newTimer(() -> fired.add("t"));
        assertFalse(t.isPending());
        t.reschedule(50);
        at(40, "x");
        t.reschedule(10); // earlier
        assertEquals(10, queue.nextDeadline());
        t.reschedule(100); // later
        assertEquals(2, queue.size());
        assertEquals(100, t.deadline());
        queue.expire(60);
        assertEquals(List.of("x"), fired);
        queue.expire(100);
        assertEquals(List.of("x", "t"), fired);

        // What an idle timeout does on every read: move the one timer, many times, allocating nothing.
        for (int i = 0; i < 1000; i++) {
            at(1_000_000 + i, "filler"); // a heap with some depth
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        for (long d = 0; d < 100_000; d++) {
            t.reschedule(1_000_000 + (d * 7919) % 2000);
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1024, "reschedule allocated " + allocated + " bytes");
        assertEquals(1001, queue.size());
    }

    @Test
    void manyTimersFireOnceEach() {
        Random random = new Random(42);
        int n = 20_000;
        int[] runs = new int[n];
        long[] lateBy = new long[1];
        long[] now = new long[1];
        List<Timer> timers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = i;
            Timer[] self = new Timer[1];
            self[0] = queue.schedule(random.nextInt(1_000_000), () -> {
                runs[id]++;
                lateBy[0] = Math.max(lateBy[0], now[0] - self[0].deadline());
            });
            timers.add(self[0]);
        }
        // Cancel a third, move a third.
        for (int i = 0; i < n; i += 3) {
            timers.get(i).cancel();
        }
        for (int i = 1; i < n; i += 3) {
            timers.get(i).reschedule(random.nextInt(1_000_000));
        }
        int live = n - (n + 2) / 3;
        assertEquals(live, queue.size());
        int ran = 0;
        for (now[0] = 0; now[0] < 1_010_000; now[0] += 10_000) {
            ran += queue.expire(now[0]);
            assertTrue(queue.nextDeadline() > now[0], "nothing due left at " + now[0]);
        }
        assertEquals(live, ran);
        assertEquals(0, queue.size());
        assertTrue(lateBy[0] < 10_000, "each fired at the first expire after its deadline");
        for (int i = 0; i < n; i++) {
            assertEquals(i % 3 == 0 ? 0 : 1, runs[i], "timer " + i);
            assertFalse(timers.get(i).isPending());
        }
    }

    @Test
    void firesInDeadlineOrderAcrossManyTimers() {
        Random random = new Random(7);
        List<Long> order = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            long d = random.nextInt(100_000);
            queue.schedule(d, () -> order.add(d));
        }
        queue.expire(100_000);
        for (int i = 1; i < order.size(); i++) {
            assertTrue(order.get(i - 1) <= order.get(i), "out of order at " + i);
        }
        assertEquals(5_000, order.size());
    }

    @Test
    void deadlinesCompareAcrossClockWraparound() {
        // System.nanoTime may be anywhere, including near overflow: order by difference, not by value.
        long near = Long.MAX_VALUE - 5;
        at(near + 10, "after"); // wraps to a negative value
        at(near, "before");
        assertEquals(1, queue.expire(near));
        assertEquals(List.of("before"), fired);
        queue.expire(near + 10);
        assertEquals(List.of("before", "after"), fired);
    }

    @Test
    void anActionMayRescheduleItsOwnTimer() {
        Timer[] self = new Timer[1];
        self[0] = queue.schedule(10, () -> {
            fired.add("tick");
            self[0].reschedule(self[0].deadline() + 10);
        });
        queue.expire(35);
        assertEquals(List.of("tick", "tick", "tick"), fired);
        assertEquals(40, queue.nextDeadline());
    }

    @Test
    void aTimerBelongsToItsQueue() {
        Timer foreign = new TimerQueue().newTimer(() -> {});
        assertThrows(IllegalArgumentException.class, () -> queue.move(foreign, 10));
    }
}
