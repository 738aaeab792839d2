package io.coecho.runtime.nio;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.TransportChoice;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The poller's interest handling, seen from the loop's turn counter: a connection whose echo is
 * blocked on a peer that does not read, with more input waiting behind it, must leave the loop
 * asleep. On a level-triggered Selector, read interest left on while the coroutine waits to write
 * would report the connection on every select and spin the loop (the seed's event storm).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NioPollerIT {

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "NIO"})
    void loopSleepsWhileWriteIsBlockedWithInputWaiting(TransportChoice choice) throws Exception {
        Transport transport = choice.open();
        EventLoop loop = transport.newLoop("poller-it", 16 * 1024).start();
        TcpListener listener = transport.listen(loop, new InetSocketAddress("127.0.0.1", 0), new ListenOptions(16, false));
        CompletableFuture<Void> echo = Task.of(loop, "echo", () -> {
            try (TcpStream s = listener.accept()) {
                MemorySegment buf = loop.scratch();
                for (int n; (n = s.read(buf)) > 0; ) {
                    s.write(buf.asSlice(0, n));
                }
            }
            return (Void) null;
        }).toFuture();
        AtomicBoolean stop = new AtomicBoolean();
        try (Socket client = new Socket()) {
            client.connect(listener.localAddress(), 5000);
            // The client sends and never reads, until the server's write waits for it; then it stops,
            // its last write either done or blocked on a full window: from then on nothing arrives.
            Thread flood = Thread.ofVirtual().start(() -> {
                byte[] chunk = new byte[64 * 1024];
                try {
                    for (int i = 0; i < 64 * 1024 && !stop.get(); i++) { // at most 4 GiB
                        client.getOutputStream().write(chunk);
                    }
                } catch (Exception e) {
                    // the socket is closed at the end of the test
                }
            });
            awaitStall(loop, flood, stop);
            // A measuring window, not synchronisation: an idle loop turns a handful of times in it,
            // a spinning one tens of thousands.
            long before = loop.stats().turns();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
            long turns = loop.stats().turns() - before;
            assertTrue(turns < 50, "loop turned " + turns + " times in 300 ms while the connection was blocked");
        } finally {
            loop.execute(listener::close);
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(5)), "loop did not stop");
        }
        assertTrue(echo.isDone());
    }

    /**
     * Waits until the server's write waits for the client (the loop says so), then stops the client's
     * flood and waits until its thread has ended or is parked in a write that cannot go on (a virtual
     * thread blocked on a socket parks): either way no more bytes arrive at the server.
     */
    private static void awaitStall(EventLoop loop, Thread flood, AtomicBoolean stop) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (loop.stats().writesWaiting() < 1) {
            assertTrue(System.nanoTime() - deadline < 0, "the server's write never waited");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        stop.set(true);
        while (flood.getState() != Thread.State.WAITING && flood.getState() != Thread.State.TERMINATED) {
            assertTrue(System.nanoTime() - deadline < 0, "the client's flood neither ended nor blocked");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
