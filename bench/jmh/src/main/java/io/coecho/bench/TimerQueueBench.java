package io.coecho.bench;

import io.coecho.runtime.timer.Timer;
import io.coecho.runtime.timer.TimerQueue;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Timer arm/cancel in a {@link TimerQueue} that already holds {@code pending} timers (one per idle
 * connection's watchdog, say), with deadlines spread at random: the heap's O(log n) sifts.
 * <ul>
 *   <li>{@code armCancel}: re-arm an existing timer and cancel it (no allocation), what a deadline
 *       around each wait costs when the timer object is kept.
 *   <li>{@code scheduleCancel}: a new timer per arm, as {@code Timeouts.withTimeout} and
 *       {@code Coroutine.sleep} do.
 * </ul>
 * The queue is used from the JMH thread alone: it is a plain loop-thread-only structure.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class TimerQueueBench {
    private static final long SPREAD = 1L << 40;
    private static final int DEADLINES = 1 << 12;

    @Param({"0", "1000", "100000"})
    public int pending;

    private TimerQueue queue;
    private Timer timer;
    private final Runnable noop = () -> {};
    private final long[] deadlines = new long[DEADLINES];
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        queue = new TimerQueue();
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < pending; i++) {
            queue.schedule(random.nextLong(SPREAD), noop);
        }
        for (int i = 0; i < DEADLINES; i++) {
            deadlines[i] = random.nextLong(SPREAD);
        }
        timer = queue.newTimer(noop);
    }

    private long nextDeadline() {
        return deadlines[next++ & (DEADLINES - 1)];
    }

    @Benchmark
    public int armCancel() {
        timer.reschedule(nextDeadline());
        timer.cancel();
        return queue.size();
    }

    @Benchmark
    public int scheduleCancel() {
        Timer t = queue.schedule(nextDeadline(), noop);
        t.cancel();
        return queue.size();
    }
}
