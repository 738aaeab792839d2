package io.coecho.examples.forwarder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each toxic of the fault-injecting forwarder, on each transport, between plain JDK sockets. What a
 * toxic does is checked by what the client sees: bytes (identical under the toxics that do not cut
 * the stream), the order and kind of the end (EOF or reset), and lower bounds on time where a toxic
 * adds time (a delay is the toxic's, so it can only make things later; no upper bound is checked).
 * Blackholes are checked through the forwarder's count of held directions, never by waiting.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ToxicsIT {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** Latency with jitter and a slicer, both ways: eight clients' bytes come back identical, in order. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void latencyJitterAndSlicerKeepEveryByteInOrder(TransportChoice transport) throws Exception {
        Toxics toxics = Toxics.builder().latency(Duration.ofMillis(5), Duration.ofMillis(4))
                .slicer(300, 250, Duration.ofNanos(100_000)).build();
        try (Target echo = Target.start(Target::echo);
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, echo.address(), 42);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            f.upstream(toxics);
            f.downstream(toxics);
            List<Future<?>> clients = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                byte[] payload = new byte[64 * 1024 + i];
                new Random(i).nextBytes(payload);
                clients.add(threads.submit(() -> {
                    try (Socket s = connect(f)) {
                        Future<?> writer = threads.submit(() -> {
                            s.getOutputStream().write(payload);
                            s.shutdownOutput();
                            return null;
                        });
                        assertArrayEquals(payload, s.getInputStream().readAllBytes());
                        writer.get();
                    }
                    return null;
                }));
            }
            for (Future<?> c : clients) {
                c.get();
            }
        }
    }

    /** Latency each way: a round trip takes at least both. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void latencyDelaysEachWay(TransportChoice transport) throws Exception {
        try (Target echo = Target.start(Target::echo);
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, echo.address());
                Socket s = connect(f)) {
            f.upstream(Toxics.builder().latency(Duration.ofMillis(100), Duration.ZERO).build());
            f.downstream(Toxics.builder().latency(Duration.ofMillis(50), Duration.ZERO).build());
            long start = System.nanoTime();
            s.getOutputStream().write('x');
            assertEquals('x', s.getInputStream().read());
            assertAtLeast(150, start, "round trip");
        }
    }

    /** 256 KiB at 512 KiB/s: at least 400 ms (the first 100 ms worth goes at once). */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void bandwidthPacesTheBytes(TransportChoice transport) throws Exception {
        int n = 256 * 1024;
        try (Target sender = Target.start(Target.sendOnRequest(n));
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, sender.address());
                Socket s = connect(f)) {
            f.downstream(Toxics.builder().bandwidth(512 * 1024).build());
            long start = System.nanoTime();
            s.getOutputStream().write('x');
            assertArrayEquals(Target.pattern(n), s.getInputStream().readNBytes(n));
            assertAtLeast(400, start, "256 KiB at 512 KiB/s");
        }
    }

    /** Pieces of at most 150 bytes with a pause of at least 1 ms after each but a chunk's last. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void slicerSendsSmallPiecesWithPauses(TransportChoice transport) throws Exception {
        int n = 32 * 1024;
        try (Target sender = Target.start(Target.sendOnRequest(n));
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, sender.address());
                Socket s = connect(f)) {
            f.downstream(Toxics.builder().slicer(100, 50, Duration.ofMillis(1)).build());
            long start = System.nanoTime();
            s.getOutputStream().write('x');
            assertArrayEquals(Target.pattern(n), s.getInputStream().readNBytes(n));
            // At least n/150 pieces; at most two chunks (16 KiB each) end without a pause.
            assertAtLeast(n / 150 - 2, start, "32 KiB in pieces of at most 150 bytes, 1 ms apart");
        }
    }

    /** The client's FIN reaches the target only after the slow close's delay; the answer then comes. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void slowCloseDelaysTheFin(TransportChoice transport) throws Exception {
        try (Target counter = Target.start(Target::countThenAnswer);
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, counter.address());
                Socket s = connect(f)) {
            f.upstream(Toxics.builder().slowClose(Duration.ofMillis(300)).build());
            s.getOutputStream().write(new byte[1000]);
            long start = System.nanoTime();
            s.shutdownOutput();
            assertEquals("got 1000 bytes", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
            assertAtLeast(300, start, "the answer after a slow close");
        }
    }

    /**
     * A blackhole on the way back holds the echo (the forwarder reports the held direction) until it
     * is lifted; then the echo arrives whole, nothing lost. The same on the way there.
     */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void blackholeHoldsUntilLiftedAndLosesNothing(TransportChoice transport) throws Exception {
        try (Target echo = Target.start(Target::echo);
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, echo.address());
                Socket s = connect(f)) {
            byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
            f.downstream(Toxics.builder().blackhole(true).build());
            s.getOutputStream().write(hello);
            await("the echo held", () -> f.held(), 1);
            assertEquals(0, s.getInputStream().available(), "nothing passed the blackhole");
            f.downstream(Toxics.NONE);
            assertArrayEquals(hello, s.getInputStream().readNBytes(hello.length));
            await("nothing held", () -> f.held(), 0);

            f.upstream(Toxics.builder().blackhole(true).build());
            s.getOutputStream().write(hello);
            await("the request held", () -> f.held(), 1);
            f.upstream(Toxics.NONE);
            assertArrayEquals(hello, s.getInputStream().readNBytes(hello.length));
        }
    }

    /** A reset after 1000 bytes: the client reads at most those, then "connection reset", no EOF. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void resetAfterBytesEndsWithAnRst(TransportChoice transport) throws Exception {
        try (Target sender = Target.start(Target.sendOnRequest(100_000));
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, sender.address());
                Socket s = connect(f)) {
            f.downstream(Toxics.builder().resetAfterBytes(1000).build());
            s.getOutputStream().write('x');
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            SocketException e = assertThrows(SocketException.class, () -> readToEnd(s.getInputStream(), got));
            assertTrue(e.getMessage().contains("reset"), e.toString());
            assertTrue(got.size() <= 1000, got.size() + " bytes before the reset");
            assertArrayEquals(Arrays.copyOf(Target.pattern(1000), got.size()), got.toByteArray());
            await("the link closed", () -> f.links(), 0);
        }
    }

    /** A reset 200 ms after the first chunk: a client waiting for an answer gets the reset then. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void resetAfterTimeEndsWithAnRst(TransportChoice transport) throws Exception {
        try (Target counter = Target.start(Target::countThenAnswer); // never answers: we do not close
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, counter.address());
                Socket s = connect(f)) {
            f.upstream(Toxics.builder().resetAfter(Duration.ofMillis(200)).build());
            long start = System.nanoTime();
            s.getOutputStream().write('x');
            SocketException e = assertThrows(SocketException.class, () -> s.getInputStream().read());
            assertTrue(e.getMessage().contains("reset"), e.toString());
            assertAtLeast(200, start, "the reset");
        }
    }

    /** Limit data: exactly 1000 bytes, then an orderly EOF; the link is gone. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void limitDataClosesAfterTheLimit(TransportChoice transport) throws Exception {
        try (Target sender = Target.start(Target.sendOnRequest(100_000));
                Forwarder f = Forwarder.start(transport, ANY_LOOPBACK, sender.address());
                Socket s = connect(f)) {
            f.downstream(Toxics.builder().limitData(1000).build());
            s.getOutputStream().write('x');
            assertArrayEquals(Target.pattern(1000), s.getInputStream().readAllBytes()); // to EOF
            await("the link closed", () -> f.links(), 0);
        }
    }

    private static void readToEnd(InputStream in, ByteArrayOutputStream into) throws IOException {
        byte[] b = new byte[4096];
        for (int n; (n = in.read(b)) >= 0; ) {
            into.write(b, 0, n);
        }
    }

    private static void assertAtLeast(long millis, long startNanos, String what) {
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        assertTrue(took >= millis, what + " took " + took + " ms, less than the toxic's " + millis + " ms");
    }

    /** Polls a counter of the forwarder until it reads expected, within 10 s. */
    private static void await(String what, IntSupplier counter, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter.getAsInt() != expected) {
            assertTrue(System.nanoTime() - deadline < 0, "never saw " + what + ": " + counter.getAsInt());
            Thread.sleep(5); // polling a condition with a deadline
        }
    }

    private static Socket connect(Forwarder forwarder) throws IOException {
        Socket s = new Socket();
        s.connect(forwarder.address(), 5_000);
        s.setSoTimeout(30_000);
        return s;
    }
}
