package io.coecho.bench;

import io.coecho.runtime.coro.Coroutine;
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
 * The coroutine switch: one wake (from the loop thread, outside any coroutine, as event dispatch
 * does) resumes a suspended coroutine, which counts and suspends again. One operation is one full
 * resume/suspend round trip (Continuation.run + Continuation.yield).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class CoroutineBench {
    static final int BATCH = 10_000;

    private OnLoop onLoop;
    private Coroutine sleeper;
    private long resumes;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        onLoop = new OnLoop("jmh-coroutine");
        sleeper = Coroutine.spawn(onLoop.loop, "sleeper", () -> {
            while (true) {
                resumes++;
                Coroutine.suspend();
            }
        });
        // Queued behind the spawn: by the time this returns, the sleeper has run and suspended.
        onLoop.run(() -> null);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        onLoop.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long resumeSuspend() throws Exception {
        return onLoop.run(() -> {
            for (int i = 0; i < BATCH; i++) {
                sleeper.wake();
            }
            return resumes;
        });
    }
}
