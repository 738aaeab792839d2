package io.coecho.runtime.coro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.QueuePoller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Coroutines on a loop with a fake poller: where they run, how they suspend, wake, yield and fail. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class CoroutineTest {
    private final EventLoop loop = QueuePoller.newLoop("coro-loop").start();

    @AfterEach
    void stopLoop() throws InterruptedException {
        loop.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(5)), "loop did not stop");
    }

    @Test
    void spawnRunsTheBodyOnTheLoopThread() throws Exception {
        CompletableFuture<String> where = new CompletableFuture<>();
        Coroutine c = Coroutine.spawn(loop, "where", () -> where.complete(
                Thread.currentThread().getName() + (Coroutine.current() != null ? " in a coroutine" : "")));
        assertEquals("coro-loop in a coroutine", where.get(5, TimeUnit.SECONDS));
        assertEquals("where", c.name());
    }

    @Test
    void suspendUntilWokenFromAnotherThread() throws Exception {
        List<String> steps = new ArrayList<>(); // loop thread only
        CompletableFuture<Void> suspended = new CompletableFuture<>();
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        Coroutine c = Coroutine.spawn(loop, "sleeper", () -> {
            steps.add("before");
            suspended.complete(null);
            Coroutine.suspend();
            steps.add("after on " + Thread.currentThread().getName());
            done.complete(List.copyOf(steps));
        });
        suspended.get(5, TimeUnit.SECONDS);
        // The wake is handed to the loop; it runs once the coroutine has really suspended.
        c.wake();
        assertEquals(List.of("before", "after on coro-loop"), done.get(5, TimeUnit.SECONDS));
        assertTrue(c.isDone() || awaitDone(c));
        c.wake(); // a late wake-up for a finished coroutine is ignored
    }

    private boolean awaitDone(Coroutine c) throws Exception {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(c.isDone()));
        return f.get(5, TimeUnit.SECONDS);
    }

    @Test
    void yieldNowLetsOthersRun() throws Exception {
        List<String> order = new ArrayList<>(); // loop thread only
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        loop.execute(() -> {
            for (String name : List.of("a", "b")) {
                Coroutine.spawn(loop, name, () -> {
                    for (int i = 0; i < 3; i++) {
                        order.add(name + i);
                        Coroutine.yieldNow();
                    }
                    if (order.size() == 6) {
                        done.complete(List.copyOf(order));
                    }
                });
            }
        });
        assertEquals(List.of("a0", "b0", "a1", "b1", "a2", "b2"), done.get(5, TimeUnit.SECONDS));
    }

    @Test
    void anExceptionIsLoggedOnceAndTheLoopSurvives() throws Exception {
        try (LogCapture log = LogCapture.start(Level.WARNING)) {
            CompletableFuture<Void> finallyRan = new CompletableFuture<>();
            Coroutine.spawn(loop, "doomed", () -> {
                try {
                    Coroutine.yieldNow();
                    throw new IllegalStateException("boom");
                } finally {
                    finallyRan.complete(null);
                }
            });
            finallyRan.get(5, TimeUnit.SECONDS);
            CompletableFuture<String> next = new CompletableFuture<>();
            Coroutine.spawn(loop, "next", () -> next.complete("served"));
            assertEquals("served", next.get(5, TimeUnit.SECONDS));
            List<String> lines = log.lines();
            assertEquals(1, lines.size(), "logged once: " + lines);
            assertTrue(lines.get(0).contains("doomed") && lines.get(0).contains("coro-loop")
                    && lines.get(0).contains("boom"), "names the coroutine, the loop and the cause: " + lines);
        }
    }

    @Test
    void awaitingOutsideACoroutineFailsClearly() {
        IllegalStateException e = assertThrows(IllegalStateException.class, Coroutine::suspend);
        assertTrue(e.getMessage().contains("inside a coroutine"), e.getMessage());
        assertThrows(IllegalStateException.class, Coroutine::yieldNow);
        assertThrows(IllegalStateException.class, () -> Coroutine.sleep(Duration.ofMillis(1)));
        assertThrows(IllegalStateException.class, () -> Task.of(loop, "t", () -> 1).await());
        assertThrows(IllegalStateException.class, () -> Timeouts.withTimeout(Duration.ofSeconds(1), () -> 1));
    }

    @Test
    void sleepSuspendsForAtLeastTheDuration() throws Exception {
        CompletableFuture<Long> slept = new CompletableFuture<>();
        CompletableFuture<Integer> othersMeanwhile = new CompletableFuture<>();
        int[] ticks = new int[1];
        Coroutine.spawn(loop, "sleeper", () -> {
            long t0 = System.nanoTime();
            Coroutine.sleep(Duration.ofMillis(50));
            slept.complete(System.nanoTime() - t0);
            othersMeanwhile.complete(ticks[0]);
        });
        Coroutine.spawn(loop, "ticker", () -> {
            while (!slept.isDone()) {
                ticks[0]++;
                Coroutine.sleep(Duration.ofMillis(5));
            }
        });
        assertTrue(slept.get(5, TimeUnit.SECONDS) >= Duration.ofMillis(50).toNanos());
        assertTrue(othersMeanwhile.get(5, TimeUnit.SECONDS) > 1, "the loop ran others while it slept");
    }

    @Test
    void withTimeoutThrowsAndRunsTheBodysFinally() throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        boolean[] finallyRan = new boolean[1];
        Coroutine.spawn(loop, "timed", () -> {
            try {
                Timeouts.withTimeout(Duration.ofMillis(30), () -> {
                    try {
                        Coroutine.suspend(); // nobody wakes it: only the deadline can
                        return "woken";
                    } finally {
                        finallyRan[0] = true;
                    }
                });
                outcome.complete("no timeout");
            } catch (TimeoutException e) {
                outcome.complete("timeout, finally " + finallyRan[0] + ", timers left " + loop.timers().size());
            }
        });
        assertEquals("timeout, finally true, timers left 0", outcome.get(5, TimeUnit.SECONDS));
    }

    @Test
    void withTimeoutReturnsTheValueInTimeAndCancelsItsTimer() throws Exception {
        CompletableFuture<String> outcome = new CompletableFuture<>();
        Coroutine.spawn(loop, "quick", () -> {
            String v = Timeouts.withTimeout(Duration.ofSeconds(30), () -> {
                Coroutine.sleep(Duration.ofMillis(5));
                return "value";
            });
            outcome.complete(v + ", timers left " + loop.timers().size());
        });
        assertEquals("value, timers left 0", outcome.get(5, TimeUnit.SECONDS));
        assertFalse(outcome.isCompletedExceptionally());
    }
}
