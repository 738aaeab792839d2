package io.coecho.bench;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The loop's run queue.
 * <ul>
 *   <li>{@code handOff}: schedule a task on the loop thread and have the loop run it on its next
 *       turn; a batch shares the turn (one epoll_wait(0), one timer check), as a burst of wake-ups
 *       does under load.
 *   <li>{@code yieldTurn}: a coroutine gives up its turn ({@link Coroutine#yieldNow()}) and is
 *       resumed on the next one: schedule + a whole loop turn + resume, the price of fairness.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class RunQueueBench {
    static final int BATCH = 1_000;

    private OnLoop onLoop;
    private long ran;
    private final Runnable work = () -> ran++;

    @Setup(Level.Trial)
    public void setUp() {
        onLoop = new OnLoop("jmh-runqueue");
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        onLoop.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long handOff() throws Exception {
        // The batch is scheduled during one turn and runs in the next; the last task reports back.
        return Task.of(onLoop.loop, "handoff", () -> {
            long before = ran;
            for (int i = 0; i < BATCH; i++) {
                onLoop.loop.schedule(work);
            }
            Coroutine.yieldNow(); // queued behind the batch, so it resumes once the batch has run
            return ran - before;
        }).toFuture().get(30, TimeUnit.SECONDS);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int yieldTurn() throws Exception {
        return Task.of(onLoop.loop, "yielder", () -> {
            for (int i = 0; i < BATCH; i++) {
                Coroutine.yieldNow();
            }
            return BATCH;
        }).toFuture().get(30, TimeUnit.SECONDS);
    }
}
