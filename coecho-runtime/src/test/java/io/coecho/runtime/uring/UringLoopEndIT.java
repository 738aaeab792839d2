package io.coecho.runtime.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a loop's end frees (issue: the buffer ring kept for good): the buffer ring's memory and every
 * stock buffer, also those lent to ops in flight when the loop ends, and also for a loop discarded
 * before it ran, whose eventfd read was queued but never submitted. Read through
 * {@link UringPoller#held}: ops in flight, the ring's memory (1 or 0), the stock's buffers.
 * Loopback, port 0.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UringLoopEndIT {
    private static final int CONNECTIONS = 8;
    private final UringTransport transport = new UringTransport();

    @Test
    void aLoopEndingWithMultishotRecvsArmedFreesTheBufferRing() throws Exception {
        int[] before = endWithReadersWaiting(new BufferRing.Shape(64, 4096));
        assertEquals(1, before[1], "the ring's memory while the loop ran");
    }

    @Test
    void aLoopEndingWithSingleShotRecvsInFlightFreesTheirStockBuffers() throws Exception {
        int[] before = endWithReadersWaiting(null);
        assertTrue(before[2] >= CONNECTIONS, "each waiting reader holds a stock buffer: " + before[2]);
    }

    @Test
    void aLoopDiscardedBeforeItRanFreesItsBufferRing() throws Exception {
        EventLoop loop = new EventLoop("discarded", l -> new UringPoller(l, new BufferRing.Shape(64, 4096)), 4096);
        UringPoller poller = (UringPoller) loop.poller();
        TcpListener listener = transport.listen(loop, any(), new ListenOptions(8, false));
        assertEquals(1, poller.held()[1], "registered");
        loop.discard();
        assertEquals(0, poller.held()[1], "the buffer ring's memory after discard");
        listener.close(); // never used on the loop, so the poller did not own it

    }

    /**
     * Ends a loop whose connections each have a reader waiting (its recv in flight) and returns what
     * the poller held before the end; asserts that nothing is held after it.
     */
    private int[] endWithReadersWaiting(BufferRing.Shape shape) throws Exception {
        EventLoop loop = new EventLoop("ending", l -> new UringPoller(l, shape), 4096).start();
        UringPoller poller = (UringPoller) loop.poller();
        TcpListener listener = transport.listen(loop, any(), new ListenOptions(64, false));
        List<Socket> clients = new ArrayList<>();
        try {
            Task<Integer> waiting = Task.of(loop, "acceptor", () -> {
                for (int i = 0; i < CONNECTIONS; i++) {
                    TcpStream s = listener.accept();
                    Coroutine.spawn(loop, "reader " + i, () -> {
                        try {
                            while (s.read(loop.scratch()) >= 0) {
                                // the test sends nothing: the read waits until the loop ends
                            }
                        } catch (java.io.IOException e) {
                            // closed by the loop's end
                        }
                    });
                }
                return CONNECTIONS;
            }).start();
            for (int i = 0; i < CONNECTIONS; i++) {
                Socket c = new Socket();
                c.connect(listener.localAddress(), 10_000);
                clients.add(c);
            }
            waiting.toFuture().get(10, TimeUnit.SECONDS);
            int[] before = onLoop(loop, poller);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (before[0] < CONNECTIONS + 1 && System.nanoTime() < deadline) {
                before = onLoop(loop, poller); // the readers' recvs submitted: one per connection
            }
            assertTrue(before[0] >= CONNECTIONS + 1, "the recvs and the wake-up read in flight: " + before[0]);
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
            int[] after = poller.held();
            assertArrayEquals(new int[] {0, 0, 0}, after,
                    "in flight, ring memory, stock buffers after the end (before: " + before[0] + ", " + before[1]
                            + ", " + before[2] + ")");
            return before;
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
    }

    private static int[] onLoop(EventLoop loop, UringPoller poller) throws Exception {
        return Task.of(loop, "probe", poller::held).start().toFuture().get(10, TimeUnit.SECONDS);
    }

    private static InetSocketAddress any() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }
}
