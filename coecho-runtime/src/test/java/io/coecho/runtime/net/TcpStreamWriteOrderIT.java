package io.coecho.runtime.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.reactor.EventLoop;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Small writes from one buffer that the writer refills at once, then a close with no shutdown first:
 * the peer gets every byte, in order, then EOF. On io_uring such writes are queued (the writer goes
 * on before the kernel has the bytes), so this holds only if each write copies its bytes, the sends
 * keep their order, and the close's cancel comes after the last send in the same enter.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpStreamWriteOrderIT {
    private static final int WRITES = 64;
    private static final int SIZE = 100;

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void smallWritesFromOneBufferThenCloseArriveWholeAndInOrder(String name) throws Exception {
        Transport t = TransportChoice.parse(name).open();
        EventLoop loop = t.newLoop("write-order", 4096).start();
        TcpListener listener = t.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new ListenOptions(8, false));
        byte[] expected = new byte[WRITES * SIZE];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (byte) (i / SIZE * 7 + i % SIZE);
        }
        try (Socket client = new Socket()) {
            client.connect(listener.localAddress(), 10_000);
            client.setSoTimeout(20_000);
            CompletableFuture<Void> written = Task.of(loop, "writer", () -> {
                try (listener) {
                    TcpStream s = listener.accept();
                    MemorySegment buf = loop.scratch();
                    for (int w = 0; w < WRITES; w++) {
                        MemorySegment.copy(expected, w * SIZE, buf, ValueLayout.JAVA_BYTE, 0, SIZE);
                        s.write(buf, SIZE);
                    }
                    s.close();
                }
                return (Void) null;
            }).toFuture();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            client.getInputStream().transferTo(got);
            written.get(10, TimeUnit.SECONDS);
            assertArrayEquals(expected, got.toByteArray(), name + ": the bytes, then EOF");
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
        }
    }
}
