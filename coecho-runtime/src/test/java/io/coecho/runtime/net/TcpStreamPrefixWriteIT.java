package io.coecho.runtime.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.reactor.EventLoop;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TcpStream#write(MemorySegment, long)} sends the first length bytes of its buffer and nothing
 * after them: when the socket takes them at once (a small write), when it takes them only as the peer
 * reads (a prefix much larger than the socket's buffers, so the write waits and keeps the rest), and
 * with a length of 0. A length beyond the buffer, or negative, is refused before anything is sent.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpStreamPrefixWriteIT {
    private static final int SMALL = 37;
    /** Far more than loopback's socket buffers hold, so the write must wait for the reader. */
    private static final int LARGE = 16 << 20;

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void onlyThePrefixIsSent(String name) throws Exception {
        Transport t = TransportChoice.parse(name).open();
        EventLoop loop = t.newLoop("prefix-write", 4096).start();
        TcpListener listener = t.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new ListenOptions(8, false));
        byte[] small = pattern(SMALL + 63, 7);
        byte[] large = pattern(2 * LARGE, 11);
        CompletableFuture<Void> refused = new CompletableFuture<>();
        try (Socket client = new Socket()) {
            client.connect(listener.localAddress(), 10_000);
            client.setSoTimeout(30_000);
            Task<Void> task = Task.of(loop, "writes prefixes", () -> {
                try (listener; TcpStream s = listener.accept()) {
                    Arena arena = Arena.ofAuto();
                    MemorySegment smallBuf = arena.allocate(small.length);
                    MemorySegment.copy(small, 0, smallBuf, ValueLayout.JAVA_BYTE, 0, small.length);
                    assertThrows(IndexOutOfBoundsException.class, () -> s.write(smallBuf, small.length + 1));
                    assertThrows(IndexOutOfBoundsException.class, () -> s.write(smallBuf, -1));
                    refused.complete(null);
                    s.write(smallBuf, 0);
                    s.write(smallBuf, SMALL);
                    MemorySegment largeBuf = arena.allocate(large.length);
                    MemorySegment.copy(large, 0, largeBuf, ValueLayout.JAVA_BYTE, 0, large.length);
                    s.write(largeBuf, LARGE);
                    s.shutdownOutput();
                }
                return null;
            });
            CompletableFuture<Void> written = task.toFuture();
            CompletableFuture.anyOf(refused, written).get(20, TimeUnit.SECONDS);
            if (written.isCompletedExceptionally()) {
                written.get(); // throws what the coroutine threw
            }
            byte[] got = readToEof(client.getInputStream());
            written.get(30, TimeUnit.SECONDS);
            assertEquals(SMALL + LARGE, got.length, name + ": bytes received");
            assertArrayEquals(Arrays.copyOf(small, SMALL), Arrays.copyOfRange(got, 0, SMALL), name + ": the small prefix");
            assertTrue(Arrays.equals(large, 0, LARGE, got, SMALL, SMALL + LARGE), name + ": the large prefix");
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
        }
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * seed + (i >>> 8));
        }
        return b;
    }

    private static byte[] readToEof(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }
}
