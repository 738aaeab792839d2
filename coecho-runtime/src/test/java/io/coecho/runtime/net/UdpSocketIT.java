package io.coecho.runtime.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.coro.Task;
import io.coecho.runtime.coro.Timeouts;
import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The UdpSocket API as a client uses it (the load generator's view): two sockets on one loop, code
 * that reads like blocking I/O, a receive deadline, truncation reported by length.
 */
@Timeout(30)
class UdpSocketIT {
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void twoSocketsTalkLikeBlockingCode(TransportChoice choice) throws Exception {
        Transport t = choice.open();
        EventLoop loop = newLoop(t);
        try {
            Task<int[]> task = Task.of(loop, "client", () -> {
                InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
                try (UdpSocket a = t.bindUdp(loop, any, false); UdpSocket b = t.bindUdp(loop, any, false)) {
                    MemorySegment out = Arena.ofAuto().allocate(3000);
                    for (int i = 0; i < 3000; i++) {
                        out.set(ValueLayout.JAVA_BYTE, i, (byte) i);
                    }
                    PeerAddress toB = PeerAddress.of(b.localAddress());
                    PeerAddress from = new PeerAddress();
                    MemorySegment in = Arena.ofAuto().allocate(4096);
                    a.send(out, toB);
                    int n = b.receive(in, from);
                    assertEquals(a.localAddress().getPort(), from.port(), "source is a");
                    assertArrayEquals(out.toArray(ValueLayout.JAVA_BYTE), in.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                    b.send(in.asSlice(0, 0), from); // an empty datagram is a datagram
                    int empty = a.receive(in, new PeerAddress());
                    a.send(out, toB);
                    int cut = b.receive(in.asSlice(0, 100), from); // too small: the full length comes back
                    assertArrayEquals(out.asSlice(0, 100).toArray(ValueLayout.JAVA_BYTE),
                            in.asSlice(0, 100).toArray(ValueLayout.JAVA_BYTE), "the first bytes of a cut datagram");
                    MemorySegment big = Arena.ofAuto().allocate(65_536);
                    a.send(out, toB);
                    int whole = b.receive(big, from); // room for any datagram
                    assertArrayEquals(out.toArray(ValueLayout.JAVA_BYTE), big.asSlice(0, whole).toArray(ValueLayout.JAVA_BYTE));
                    TimeoutException silence = assertThrows(TimeoutException.class,
                            () -> Timeouts.withTimeout(Duration.ofMillis(50), () -> a.receive(in, from)));
                    assertTrue(silence.getMessage().contains("50 ms"));
                    return new int[] {n, empty, cut, whole};
                }
            });
            assertArrayEquals(new int[] {3000, 0, 3000, 3000}, task.toFuture().get(20, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            throw (e.getCause() instanceof Exception ex) ? ex : e;
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
        }
    }

    private static EventLoop newLoop(Transport t) {
        return t.newLoop("udp-test", 16 * 1024).start();
    }
}
