package io.coecho.runtime.coro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.QueuePoller;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The lazy, joinable task: when it runs, and how its result or failure reaches whoever waits. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class TaskTest {
    private final EventLoop loop = QueuePoller.newLoop("task-loop").start();
    private final EventLoop other = QueuePoller.newLoop("other-loop").start();

    @AfterEach
    void stopLoops() throws InterruptedException {
        loop.stop();
        other.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(5)) && other.awaitTermination(Duration.ofSeconds(5)));
    }

    /** Waits until the loop has finished what was queued before (two turns, to be sure). */
    private void settle(EventLoop l) throws Exception {
        for (int i = 0; i < 2; i++) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            l.execute(() -> f.complete(null));
            f.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void nothingRunsBeforeStartOrAwait() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Task<Integer> task = Task.of(loop, "lazy", runs::incrementAndGet);
        settle(loop);
        assertEquals(0, runs.get(), "ran before anyone asked");
        assertFalse(task.isDone());
        task.start();
        task.start(); // idempotent
        assertEquals(1, task.toFuture().get(5, TimeUnit.SECONDS));
        settle(loop);
        assertEquals(1, runs.get());
    }

    @Test
    void awaitStartsTheTaskAndGetsItsResult() throws Exception {
        CompletableFuture<String> got = new CompletableFuture<>();
        Coroutine.spawn(loop, "awaiter", () -> {
            Task<String> t = Task.of(loop, "answer", () -> {
                Coroutine.yieldNow(); // the task suspends too; its awaiter waits
                return "42 on " + Thread.currentThread().getName();
            });
            got.complete(t.await());
        });
        assertEquals("42 on task-loop", got.get(5, TimeUnit.SECONDS));
    }

    @Test
    void theExceptionReachesTheAwaiter() throws Exception {
        IOException failure = new IOException("disk on fire");
        CompletableFuture<Throwable> got = new CompletableFuture<>();
        Coroutine.spawn(loop, "awaiter", () -> {
            Task<String> t = Task.of(loop, "failing", () -> {
                throw failure;
            });
            try {
                t.await();
                got.complete(null);
            } catch (Exception e) {
                got.complete(e);
            }
        });
        assertSame(failure, got.get(5, TimeUnit.SECONDS));
    }

    @Test
    void toFutureFromAPlainThread() throws Exception {
        assertEquals("done", Task.of(loop, "value", () -> "done").toFuture().get(5, TimeUnit.SECONDS));
        ExecutionException e = assertThrows(ExecutionException.class, () -> Task.of(loop, "failing", () -> {
            throw new IllegalArgumentException("bad");
        }).toFuture().get(5, TimeUnit.SECONDS));
        assertEquals("bad", e.getCause().getMessage());
    }

    @Test
    void awaitAcrossTwoLoops() throws Exception {
        CompletableFuture<String> got = new CompletableFuture<>();
        Coroutine.spawn(loop, "awaiter", () -> {
            Task<String> t = Task.of(other, "remote", () -> {
                Coroutine.sleep(Duration.ofMillis(10));
                return "from " + Thread.currentThread().getName();
            });
            String v = t.await();
            got.complete(v + ", resumed on " + Thread.currentThread().getName());
        });
        assertEquals("from other-loop, resumed on task-loop", got.get(5, TimeUnit.SECONDS));
    }

    @Test
    void manyAwaitersOfOneTask() throws Exception {
        Task<Integer> shared = Task.of(loop, "shared", () -> {
            Coroutine.sleep(Duration.ofMillis(5));
            return 7;
        });
        AtomicInteger sum = new AtomicInteger();
        CompletableFuture<Void> all = new CompletableFuture<>();
        for (int i = 0; i < 10; i++) {
            Coroutine.spawn(i % 2 == 0 ? loop : other, "awaiter" + i, () -> {
                if (sum.addAndGet(shared.await()) == 70) {
                    all.complete(null);
                }
            });
        }
        all.get(5, TimeUnit.SECONDS);
        assertEquals(70, sum.get());
    }
}
