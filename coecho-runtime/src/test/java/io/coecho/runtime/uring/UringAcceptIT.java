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
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Multishot accept (-Dcoecho.uring.multishotAccept, default on): a burst is taken on few arms and
 * every connection served; when nobody calls accept the multishot stops before the turn's enter, so
 * later clients wait in the backlog (admission control, --max-connections); a burst that arrives
 * while nobody waits is queued, and the queued fds are closed with the listener. Read through
 * {@link UringTcpListener#held}: fds queued, accept in flight, arms. With the switch off each test
 * checks the single-shot path the same way (nothing queued, nothing in flight between calls).
 * Loopback, port 0.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UringAcceptIT {
    private final UringTransport transport = new UringTransport();
    private final List<Socket> clients = new ArrayList<>();
    private EventLoop loop;
    private UringTcpListener listener;

    @BeforeEach
    void start() throws Exception {
        loop = transport.newLoop("uring-accept", 4096).start();
        listener = (UringTcpListener) transport.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new ListenOptions(256, false));
    }

    @AfterEach
    void stop() throws Exception {
        for (Socket c : clients) {
            c.close();
        }
        loop.execute(listener::close);
        loop.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
    }

    @Test
    void aBurstIsAcceptedOnFewArmsAndEveryConnectionIsServed() throws Exception {
        int n = 100;
        Coroutine.spawn(loop, "acceptor", () -> {
            try {
                while (true) {
                    TcpStream s = listener.accept();
                    Coroutine.spawn(loop, "echo", () -> echoOnce(s));
                }
            } catch (IOException e) {
                // closed at the end
            }
        });
        for (int i = 0; i < n; i++) {
            clients.add(connect());
        }
        for (int i = 0; i < n; i++) {
            Socket c = clients.get(i);
            c.getOutputStream().write(new byte[] {(byte) i});
            c.setSoTimeout(10_000);
            assertArrayEquals(new byte[] {(byte) i}, c.getInputStream().readNBytes(1), "connection " + i);
        }
        long[] held = onLoop(listener::held);
        assertEquals(0, held[0], "nothing left queued");
        if (UringTcpListener.MULTISHOT_ACCEPT) {
            assertEquals(1, held[1], "armed while the acceptor waits");
            assertTrue(held[2] < n / 2, "arms for " + n + " connections: " + held[2]);
        }
    }

    @Test
    void nobodyAcceptingStopsTheMultishotSoLaterClientsWaitInTheBacklog() throws Exception {
        clients.add(connect());
        TcpStream first = Task.of(loop, "accept once", listener::accept).start().toFuture().get(10, TimeUnit.SECONDS);
        // Nobody calls accept now (an acceptor at its limit): the multishot is cancelled before the enter.
        awaitInFlight(0, "no accept in flight while nobody accepts");
        for (int i = 0; i < 3; i++) {
            clients.add(connect()); // connected by the kernel, in the backlog
        }
        // Two loop turns: a completion for any of them (had an accept been armed) is dispatched by then.
        onLoop(listener::held);
        assertEquals(0, onLoop(listener::held)[0], "accepted nothing while nobody asked");
        for (int i = 1; i <= 3; i++) {
            int k = i;
            TcpStream s = Task.of(loop, "accept " + i, listener::accept).start().toFuture().get(10, TimeUnit.SECONDS);
            Coroutine.spawn(loop, "echo", () -> echoOnce(s));
            clients.get(k).getOutputStream().write(new byte[] {(byte) k});
            clients.get(k).setSoTimeout(10_000);
            assertEquals(k, clients.get(k).getInputStream().read(), "served once accepted");
        }
        loop.execute(first::close);
    }

    @Test
    void aBurstWhileNobodyWaitsIsQueuedAndClosedWithTheListener() throws Exception {
        // An accept in flight and a waiter; then the loop is busy while 20 clients connect, so their
        // accepts come in one batch: the first goes to the waiter, the rest nobody asked for.
        Task<TcpStream> waiting = Task.of(loop, "accept", listener::accept).start();
        awaitInFlight(1, "the accept armed for the waiter");
        int n = 20;
        CountDownLatch connected = new CountDownLatch(1);
        loop.execute(() -> {
            try {
                // The loop thread does not enter until every client has connected (the kernel completes
                // the handshakes without us), so their accepts come in one batch.
                connected.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int i = 0; i < n; i++) {
            clients.add(connect());
        }
        connected.countDown();
        TcpStream first = waiting.toFuture().get(10, TimeUnit.SECONDS);
        long[] held = onLoop(listener::held);
        if (UringTcpListener.MULTISHOT_ACCEPT) {
            assertTrue(held[0] >= 1, "accepted in the batch with nobody waiting, queued: " + held[0]);
        } else {
            assertEquals(0, held[0]);
        }
        onLoop(() -> {
            listener.close();
            first.close();
            return null;
        });
        assertEquals(0, onLoop(listener::held)[0], "the queue closed with the listener");
        // Every client sees its end: a queued fd closed (EOF), or a backlog reset by the close.
        for (Socket c : clients) {
            c.setSoTimeout(10_000);
            assertEquals(-1, readOrReset(c.getInputStream()));
        }
    }

    private static int readOrReset(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (SocketException e) {
            return -1; // reset: it was still in the backlog
        }
    }

    private void echoOnce(TcpStream s) {
        try (s) {
            MemorySegment buf = Arena.ofAuto().allocate(16);
            int r = s.read(buf);
            if (r > 0) {
                s.write(buf.asSlice(0, r));
            }
        } catch (IOException e) {
            // the test's end
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(listener.localAddress(), 10_000);
        return s;
    }

    /** Waits, loop turn by loop turn (no sleep) and within a bound, until the accepts in flight are {@code inFlight}. */
    private void awaitInFlight(long inFlight, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (onLoop(listener::held)[1] != inFlight && System.nanoTime() - deadline < 0) {
            // each probe is one turn of the loop
        }
        assertEquals(inFlight, onLoop(listener::held)[1], what);
    }

    private <T> T onLoop(Callable<T> body) throws Exception {
        return Task.of(loop, "probe", body).start().toFuture().get(10, TimeUnit.SECONDS);
    }
}
