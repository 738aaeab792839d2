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

    /**
     * A queued write (the writer goes on before its SEND completes) that the socket could not take
     * whole: the writer's next read must send the rest first, reading nothing meanwhile, or the peer
     * never gets it. The writer refills the loop's scratch before each write, as an echo does, so a
     * write that kept the caller's buffer instead of a copy would send the wrong bytes.
     */
    @Test
    void aQueuedWriteTheSocketCouldNotTakeWholeIsFinishedByTheNextRead() throws Exception {
        try (Socket client = new Socket()) {
            client.setReceiveBufferSize(4096);
            client.connect(listener.localAddress(), 10_000);
            client.setSoTimeout(20_000);
            TcpStream stream = Task.of(loop, "acceptor", listener::accept).start().toFuture().get(10, TimeUnit.SECONDS);
            CompletableFuture<Long> blocked = new CompletableFuture<>();
            Task<Integer> writer = Task.of(loop, "writer", () -> {
                MemorySegment buf = loop.scratch();
                long written = 0;
                // Until one comes back short: the client reads nothing yet, so its socket fills up.
                for (int i = 0; i < 100_000 && !stream.writeWaiting(); i++) {
                    for (int k = 0; k < buf.byteSize(); k++) {
                        buf.set(ValueLayout.JAVA_BYTE, k, patternByte(written + k));
                    }
                    stream.write(buf);
                    written += buf.byteSize();
                    Coroutine.yieldNow(); // its SEND goes out in this turn's enter: the next turn knows how it went
                }
                blocked.complete(written);
                MemorySegment one = Arena.ofAuto().allocate(1);
                int n = stream.read(one); // finishes the write first, then waits for the client's byte
                stream.write(one, n);
                stream.shutdownOutput();
                stream.close();
                return n;
            }).start();
            long total = blocked.get(20, TimeUnit.SECONDS);
            assertTrue(total < 1L << 30, "a write came back short before 100,000 writes");
            InputStream in = client.getInputStream();
            byte[] chunk = new byte[64 * 1024];
            long got = 0;
            while (got < total) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, total - got));
                assertTrue(n > 0, "EOF after " + got + " of " + total + " bytes");
                for (int k = 0; k < n; k++) {
                    assertEquals(patternByte(got + k), chunk[k], "byte " + (got + k));
                }
                got += n;
            }
            client.getOutputStream().write(42);
            assertEquals(42, in.read(), "the client's byte echoed after the whole write");
            assertEquals(-1, in.read());
            assertEquals(1, writer.toFuture().get(10, TimeUnit.SECONDS));
        }
    }

    private static byte patternByte(long i) {
        return (byte) (i * 31 + (i >>> 12));
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
