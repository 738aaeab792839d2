package io.coecho.runtime.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The io_uring transport's own hazards (issue 14): a socket closed while its operations are in
 * flight (cancel, then close the fd after the last completion, so that no completion ever reaches
 * a later socket with the same fd number), and a read given up while its recv is in flight (a
 * timeout, a drain), whose bytes must not be lost. Loopback, port 0, bytes compared.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UringHazardsIT {
    private static final RuntimeException GIVE_UP = new RuntimeException("give up");

    private final UringTransport transport = new UringTransport();
    private EventLoop loop;
    private TcpListener listener;

    @BeforeEach
    void start() throws Exception {
        loop = transport.newLoop("uring-hazards", 4096).start();
        listener = transport.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new ListenOptions(16, false));
    }

    @AfterEach
    void stop() throws Exception {
        loop.execute(listener::close);
        loop.stop();
        assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
    }

    @Test
    void closingWithARecvInFlightClosesTheSocketAfterItsCompletionAndNothingStrays() throws Exception {
        try (LogCapture log = LogCapture.start(Level.WARNING); Socket first = connect()) {
            CompletableFuture<Throwable> readerEnded = new CompletableFuture<>();
            Task<TcpStream> accepted = Task.of(loop, "acceptor", listener::accept).start();
            TcpStream stream = accepted.toFuture().get(10, TimeUnit.SECONDS);
            Coroutine.spawn(loop, "reader", () -> {
                try {
                    stream.read(loop.scratch());
                    readerEnded.complete(null);
                } catch (Throwable t) {
                    readerEnded.complete(t);
                }
            });
            // Close on the loop while the reader's recv is in the kernel.
            Task.of(loop, "closer", () -> {
                Coroutine.yieldNow(); // the reader has submitted its recv by now
                stream.close();
                return null;
            }).start().toFuture().get(10, TimeUnit.SECONDS);
            assertInstanceOf(ClosedChannelException.class, readerEnded.get(10, TimeUnit.SECONDS));
            // The cancel completed and the fd was closed: the peer reads EOF.
            first.setSoTimeout(10_000);
            assertEquals(-1, first.getInputStream().read());
            // A new connection (which may take the same fd number) is served by its own operations.
            try (Socket second = connect()) {
                Task<byte[]> echo = Task.of(loop, "second", () -> {
                    try (TcpStream s = listener.accept()) {
                        MemorySegment buf = Arena.ofAuto().allocate(16);
                        int n = s.read(buf);
                        s.write(buf.asSlice(0, n));
                        return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                    }
                }).start();
                second.getOutputStream().write(new byte[] {1, 2, 3});
                assertArrayEquals(new byte[] {1, 2, 3}, readFully(second.getInputStream(), 3));
                assertArrayEquals(new byte[] {1, 2, 3}, echo.toFuture().get(10, TimeUnit.SECONDS));
            }
            assertEquals(java.util.List.of(), log.lines(), "no stray completion, nothing in flight at close");
        }
    }

    @Test
    void aReadGivenUpWhileItsRecvIsInFlightLosesNoBytes() throws Exception {
        try (Socket client = connect()) {
            TcpStream stream = Task.of(loop, "acceptor", listener::accept).start().toFuture().get(10, TimeUnit.SECONDS);
            CompletableFuture<Void> gaveUp = new CompletableFuture<>();
            Task<byte[]> reader = Task.of(loop, "reader", () -> {
                Coroutine self = Coroutine.require();
                loop.schedule(() -> self.interrupt(GIVE_UP)); // gives up while the recv is in flight
                try {
                    stream.read(loop.scratch());
                } catch (RuntimeException e) {
                    if (e != GIVE_UP) {
                        throw e;
                    }
                    gaveUp.complete(null);
                }
                MemorySegment buf = Arena.ofAuto().allocate(16);
                int n = stream.read(buf); // the recv still in flight takes the bytes sent below
                stream.close();
                return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            }).start();
            gaveUp.get(10, TimeUnit.SECONDS);
            client.getOutputStream().write(new byte[] {7, 8, 9});
            assertArrayEquals(new byte[] {7, 8, 9}, reader.toFuture().get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void closingStreamsWithRecvsInFlightClosesTheirFdsAndTheCancelsPostNothingWhenSkipped() throws Exception {
        int n = 4;
        UringPoller poller = (UringPoller) loop.poller();
        java.util.List<Socket> clients = new java.util.ArrayList<>();
        try {
            java.util.List<TcpStream> streams = new java.util.ArrayList<>();
            java.util.List<CompletableFuture<Throwable>> ended = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                clients.add(connect());
                TcpStream s = Task.of(loop, "acceptor", listener::accept).start().toFuture().get(10, TimeUnit.SECONDS);
                CompletableFuture<Throwable> end = new CompletableFuture<>();
                Coroutine.spawn(loop, "reader " + i, () -> {
                    try {
                        s.read(loop.scratch());
                        end.complete(null);
                    } catch (Throwable t) {
                        end.complete(t);
                    }
                });
                streams.add(s);
                ended.add(end);
            }
            long before = Task.of(loop, "closer", () -> {
                Coroutine.yieldNow(); // the readers have submitted their recvs by now
                long c = poller.cancelCompletions();
                for (TcpStream s : streams) {
                    s.close(); // one cancel by fd each
                }
                return c;
            }).start().toFuture().get(10, TimeUnit.SECONDS);
            for (int i = 0; i < n; i++) {
                assertInstanceOf(ClosedChannelException.class, ended.get(i).get(10, TimeUnit.SECONDS));
                // The cancelled recv's own CQE still comes (never skipped): it closes the fd, so EOF.
                clients.get(i).setSoTimeout(10_000);
                assertEquals(-1, clients.get(i).getInputStream().read());
            }
            long seen = Task.of(loop, "probe", () -> poller.cancelCompletions() - before).start().toFuture()
                    .get(10, TimeUnit.SECONDS);
            assertEquals(poller.ring.skipSuccess ? 0 : n, seen, "CQEs of the cancels themselves (skipSuccess "
                    + poller.ring.skipSuccess + ")");
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
    }

    private Socket connect() throws Exception {
        Socket s = new Socket();
        s.connect(listener.localAddress(), 10_000);
        return s;
    }

    private static byte[] readFully(InputStream in, int n) throws Exception {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length);
        return b;
    }
}
