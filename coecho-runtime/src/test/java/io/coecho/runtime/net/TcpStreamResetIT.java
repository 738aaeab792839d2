package io.coecho.runtime.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TcpStream#reset()} ends a connection with an RST, not a FIN: the peer's read fails with
 * "connection reset" instead of seeing EOF, even with data it has not read yet; a reset after close
 * changes nothing.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpStreamResetIT {
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void thePeerSeesAResetNotAnEof(String name) throws Exception {
        Transport t = TransportChoice.parse(name).open();
        EventLoop loop = t.newLoop("reset-test", 4096).start();
        TcpListener listener = t.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new ListenOptions(8, false));
        try (Socket client = new Socket()) {
            client.connect(listener.localAddress(), 10_000);
            client.setSoTimeout(20_000);
            client.getOutputStream().write(new byte[] {1, 2, 3});
            Task<Integer> task = Task.of(loop, "resets", () -> {
                try (listener) {
                    TcpStream s = listener.accept();
                    MemorySegment buf = Arena.ofAuto().allocate(16);
                    int n = s.read(buf); // the client's bytes are here: the connection is established
                    s.write(buf.asSlice(0, n));
                    s.reset();
                    s.reset(); // idempotent
                    s.close(); // and close after it changes nothing
                    return n;
                }
            });
            assertEquals(3, task.toFuture().get(20, TimeUnit.SECONDS));
            // What was written before the reset may arrive first; then the read fails instead of EOF.
            SocketException e = assertThrows(SocketException.class, () -> {
                while (client.getInputStream().read() >= 0) {
                    // bytes sent before the reset
                }
            }, name + ": EOF instead of a reset");
            assertTrue(e.getMessage().contains("reset"), name + ": " + e);
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
        }
    }
}
