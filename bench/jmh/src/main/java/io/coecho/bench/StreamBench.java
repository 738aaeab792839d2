package io.coecho.bench;

import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The epoll stream's fast path: over a loopback connection on one loop, a coroutine writes a
 * message on one end and reads it on the other. Loopback delivers during send, so the read finds the
 * bytes at once and nothing suspends: one operation is send + recv through FFM and the kernel's
 * loopback, the floor under every echoed message.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
        "--sun-misc-unsafe-memory-access=allow"})
public class StreamBench {
    static final int BATCH = 1_000;

    @Param({"32", "4096"})
    public int size;

    private OnLoop onLoop;
    private TcpListener listener;
    private TcpStream client;
    private TcpStream server;
    private MemorySegment message;
    private MemorySegment received;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        onLoop = new OnLoop("jmh-stream");
        listener = onLoop.transport.listen(onLoop.loop,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new ListenOptions(16, false));
        CompletableFuture<TcpStream> accepted = Task.of(onLoop.loop, "accept", listener::accept).toFuture();
        InetSocketAddress at = listener.localAddress();
        client = Task.of(onLoop.loop, "connect", () -> onLoop.transport.connect(onLoop.loop, at))
                .toFuture().get(10, TimeUnit.SECONDS);
        server = accepted.get(10, TimeUnit.SECONDS);
        message = Arena.ofAuto().allocate(size, 64);
        message.fill((byte) 'x');
        received = Arena.ofAuto().allocate(size, 64);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        onLoop.run(() -> {
            client.close();
            server.close();
            listener.close();
            return null;
        });
        onLoop.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long sendRecv() throws Exception {
        return Task.of(onLoop.loop, "ping", () -> {
            long total = 0;
            for (int i = 0; i < BATCH; i++) {
                client.write(message);
                int got = 0;
                while (got < size) {
                    int n = server.read(received.asSlice(got));
                    if (n < 0) {
                        throw new EOFException("loopback peer closed");
                    }
                    got += n;
                }
                total += got;
            }
            return total;
        }).toFuture().get(30, TimeUnit.SECONDS);
    }
}
