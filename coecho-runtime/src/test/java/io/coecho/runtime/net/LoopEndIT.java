package io.coecho.runtime.net;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A loop that ends closes every socket registered with it, including one that a coroutine woken by
 * that very close opens and registers (as a coroutine that reconnects or listens anew on failure
 * does): the poller refuses registrations once it is closing, so nothing outlives the loop.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LoopEndIT {
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void aSocketOpenedWhileTheLoopEndsDoesNotOutliveIt(String name) throws Exception {
        Transport t = TransportChoice.parse(name).open();
        EventLoop loop = t.newLoop("ending", 4096).start();
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        ListenOptions options = new ListenOptions(8, false);
        TcpListener first = t.listen(loop, any, options);
        CompletableFuture<Void> waiting = new CompletableFuture<>();
        CompletableFuture<InetSocketAddress> second = new CompletableFuture<>();
        CompletableFuture<IOException> secondAccept = new CompletableFuture<>();
        Coroutine.spawn(loop, "listens anew", () -> {
            try (first) {
                waiting.complete(null); // then suspends in accept, within this same turn of the loop
                first.accept();
            } catch (IOException e) {
                // The loop's end closed it. Listen anew, as a coroutine that retries would.
                try (TcpListener again = t.listen(loop, any, options)) {
                    second.complete(again.localAddress());
                    again.accept();
                } catch (IOException e2) {
                    secondAccept.complete(e2);
                }
            }
        });
        waiting.get(10, TimeUnit.SECONDS);
        loop.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(10)), "loop did not stop");
        InetSocketAddress address = second.get(10, TimeUnit.SECONDS);
        try (Socket s = new Socket()) {
            assertThrows(ConnectException.class, () -> s.connect(address, 10_000),
                    name + ": the listener opened while the loop ended still listens");
        }
        assertInstanceOf(ClosedChannelException.class, secondAccept.getNow(null), name + ": its accept");
    }
}
