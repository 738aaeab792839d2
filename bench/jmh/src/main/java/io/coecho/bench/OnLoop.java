package io.coecho.bench;

import io.coecho.runtime.linux.EpollTransport;
import io.coecho.runtime.reactor.EventLoop;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A started epoll event loop for a benchmark, and a way to run a batch of work on its thread and wait
 * for the result. The cross-thread hand-off costs a few microseconds, so each benchmark runs a batch
 * of operations per hand-off and reports per operation (JMH's OperationsPerInvocation).
 *
 * <p>Created and closed on the JMH thread; the batches run on the loop thread.
 */
final class OnLoop implements AutoCloseable {
    final EpollTransport transport = new EpollTransport();
    final EventLoop loop;

    OnLoop(String name) {
        loop = transport.newLoop(name, 16 * 1024).start();
    }

    /** Runs batch on the loop thread (outside any coroutine) and returns its result. */
    <T> T run(Supplier<T> batch) throws Exception {
        CompletableFuture<T> done = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                done.complete(batch.get());
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done.get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        loop.stop();
        if (!loop.awaitTermination(Duration.ofSeconds(10))) {
            throw new IllegalStateException(loop + " did not stop");
        }
    }
}
