package io.coecho.runtime.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.runtime.timer.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The reactor on a fake poller: run-queue order, cross-thread execute, timers, stop, failures. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class EventLoopTest {
    private final EventLoop loop = QueuePoller.newLoop("test-loop").start();

    @AfterEach
    void stopLoop() throws InterruptedException {
        loop.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(5)), "loop did not stop");
    }

    /** Runs action on the loop thread and waits for its result. */
    private <T> T onLoop(java.util.concurrent.Callable<T> action) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(action.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(5, TimeUnit.SECONDS);
    }

    @Test
    void runQueueRunsInOrderOnTheLoopThread() throws Exception {
        List<String> ran = new ArrayList<>(); // touched by the loop thread only
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        loop.execute(() -> {
            loop.schedule(() -> ran.add("a"));
            loop.execute(() -> ran.add("b")); // execute from the loop thread joins the same queue
            loop.schedule(() -> ran.add("c"));
            loop.schedule(() -> {
                loop.schedule(() -> done.complete(List.copyOf(ran)));
                ran.add(loop.inLoop() ? "d on loop" : "d elsewhere");
            });
        });
        assertEquals(List.of("a", "b", "c", "d on loop"), done.get(5, TimeUnit.SECONDS));
    }

    @Test
    void executeFromOtherThreadsRunsEachThreadsTasksInOrder() throws Exception {
        int threads = 4;
        int perThread = 20_000;
        int[] next = new int[threads]; // loop thread only
        boolean[] wrong = new boolean[1];
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            senders.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    int seq = i;
                    loop.execute(() -> {
                        if (next[id] != seq || !loop.inLoop()) {
                            wrong[0] = true;
                        }
                        next[id]++;
                    });
                }
            }));
        }
        for (Thread s : senders) {
            s.join();
        }
        int[] counts = onLoop(() -> next.clone());
        for (int t = 0; t < threads; t++) {
            assertEquals(perThread, counts[t], "tasks of thread " + t);
        }
        assertFalse(onLoop(() -> wrong[0]), "a task ran out of order or off the loop thread");
    }

    @Test
    void executeWakesALoopBlockedInPoll() throws Exception {
        // Nothing queued, no timers: the loop waits in poll(-1) until execute wakes it.
        for (int i = 0; i < 100; i++) {
            int n = i;
            assertEquals(n, onLoop(() -> n));
        }
    }

    @Test
    void stopEndsTheLoopAndClosesThePoller() throws Exception {
        assertFalse(loop.isTerminated());
        loop.execute(loop::stop); // from the loop itself
        assertTrue(loop.awaitTermination(Duration.ofSeconds(5)));
        assertTrue(loop.isTerminated());
        assertTrue(QueuePoller.of(loop).isClosed());
        loop.stop(); // idempotent
    }

    @Test
    void discardReleasesALoopThatNeverStarted() {
        EventLoop unused = QueuePoller.newLoop("never-started");
        unused.discard();
        assertTrue(unused.isTerminated());
        assertTrue(QueuePoller.of(unused).isClosed());
        assertThrows(IllegalStateException.class, unused::start);
        assertThrows(IllegalStateException.class, loop::discard); // a running loop is stopped, not discarded
    }

    @Test
    void anEndedLoopRefusesTasksAndNeverRunsThem() throws Exception {
        loop.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(5)));
        boolean[] ran = new boolean[1];
        assertFalse(loop.tryExecute(() -> ran[0] = true), "accepted by a loop that has ended");
        assertFalse(ran[0]);
    }

    @Test
    void aTaskAcceptedAsTheLoopStopsStillRuns() throws Exception {
        // The loop's last turn is held in dispatch (after it ran its tasks) while another thread gives
        // it a task: that task arrives too late for any turn, and must still run before the loop ends.
        CompletableFuture<Void> inLastTurn = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        QueuePoller.of(loop).post(() -> {
            loop.stop();
            inLastTurn.complete(null);
            release.join();
        });
        inLastTurn.get(5, TimeUnit.SECONDS);
        CompletableFuture<String> late = new CompletableFuture<>();
        assertTrue(loop.tryExecute(() -> late.complete(loop.inLoop() ? "on loop" : "elsewhere")));
        release.complete(null);
        assertEquals("on loop", late.get(5, TimeUnit.SECONDS));
        assertTrue(loop.awaitTermination(Duration.ofSeconds(5)));
    }

    @Test
    void aFailingTaskDoesNotKillTheLoop() throws Exception {
        try (LogCapture log = LogCapture.start(Level.SEVERE)) {
            loop.execute(() -> {
                throw new IllegalStateException("boom");
            });
            assertEquals("still here", onLoop(() -> "still here"));
            assertEquals(1, log.lines().size(), "logged once: " + log.lines());
            assertTrue(log.lines().get(0).contains("boom"), log.lines().toString());
        }
    }

    @Test
    void aFailingTimerDoesNotKillTheLoopNorTheTimersDueWithIt() throws Exception {
        try (LogCapture log = LogCapture.start(Level.SEVERE)) {
            CompletableFuture<String> after = new CompletableFuture<>();
            loop.execute(() -> {
                loop.schedule(Duration.ofMillis(5), () -> {
                    throw new IllegalStateException("timer boom");
                });
                loop.schedule(Duration.ofMillis(5), () -> after.complete("due with it, still fired"));
            });
            assertEquals("due with it, still fired", after.get(5, TimeUnit.SECONDS));
            assertEquals("still here", onLoop(() -> "still here"));
            assertFalse(loop.isTerminated());
            assertEquals(1, log.lines().size(), "logged once: " + log.lines());
            assertTrue(log.lines().get(0).contains("timer boom"), log.lines().toString());
        }
    }

    @Test
    void timersFireOnTheLoopInDeadlineOrder() throws Exception {
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        List<String> ran = new ArrayList<>();
        long start = System.nanoTime();
        loop.execute(() -> {
            loop.schedule(Duration.ofMillis(60), () -> {
                ran.add("60ms on " + (loop.inLoop() ? "loop" : "other"));
                done.complete(List.copyOf(ran));
            });
            loop.schedule(Duration.ofMillis(20), () -> ran.add("20ms"));
            Timer cancelled = loop.schedule(Duration.ofMillis(40), () -> ran.add("cancelled"));
            loop.schedule(Duration.ofMillis(1), cancelled::cancel);
            loop.schedule(Duration.ZERO, () -> ran.add("0ms"));
        });
        assertEquals(List.of("0ms", "20ms", "60ms on loop"), done.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - start >= Duration.ofMillis(60).toNanos(), "not before its deadline");
    }

    @Test
    void aSubMillisecondTimerDoesNotSpinTheLoop() throws Exception {
        long turnsBefore = onLoop(() -> loop.stats().turns());
        CompletableFuture<Void> fired = new CompletableFuture<>();
        loop.execute(() -> loop.schedule(Duration.ofNanos(300_000), () -> fired.complete(null)));
        fired.get(5, TimeUnit.SECONDS);
        long turns = onLoop(() -> loop.stats().turns()) - turnsBefore;
        // A zero poll timeout until the deadline would take thousands of turns.
        assertTrue(turns < 20, "turns while waiting 0.3 ms: " + turns);
    }
}
