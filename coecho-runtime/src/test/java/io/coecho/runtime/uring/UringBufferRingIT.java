package io.coecho.runtime.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The provided buffer ring and multishot recv (issue 14): a tiny ring that runs dry under many
 * connections sending at once (ENOBUFS re-arms, never closes: every byte echoed), a slow reader that
 * holds bounded memory (the ring's and the stream's counters, not timing), a close with the multishot
 * armed and bytes queued (buffers back, fd closed after the last CQE, the next connection served), and
 * a half-close; the last two also on the single-shot path (-Dcoecho.uring.multishot=false).
 * Loopback, port 0, bytes compared.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UringBufferRingIT {
    private final UringTransport transport = new UringTransport();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private EventLoop loop;
    private TcpListener listener;

    private void start(BufferRing.Shape shape) throws Exception {
        loop = new EventLoop("pbuf-test", l -> new UringPoller(l, shape), 4096).start();
        listener = transport.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                new ListenOptions(1024, false));
        if (shape != null) {
            assertNotNull(onLoop(() -> poller().bufferRing()), "the kernel registered the buffer ring");
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (loop != null) {
            loop.execute(listener::close);
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
        }
    }

    @Test
    void aTinyRingRunsDryAndEveryByteIsStillEchoedOnEveryConnection() throws Exception {
        start(new BufferRing.Shape(4, 256)); // 1 KiB for the whole loop
        int connections = 64;
        int bytes = 64 * 1024;
        acceptAndEcho(connections);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<byte[]>> echoes = new ArrayList<>();
            List<byte[]> sent = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                byte[] data = pattern(bytes, c);
                sent.add(data);
                echoes.add(threads.submit(() -> {
                    try (Socket s = connect()) {
                        Future<?> w = threads.submit(() -> {
                            s.getOutputStream().write(data); // all at once: the ring cannot hold it
                            return null;
                        });
                        byte[] back = readFully(s.getInputStream(), data.length);
                        w.get(30, TimeUnit.SECONDS);
                        return back;
                    }
                }));
            }
            for (int c = 0; c < connections; c++) {
                assertArrayEquals(sent.get(c), echoes.get(c).get(50, TimeUnit.SECONDS), "connection " + c);
            }
        }
        assertTrue(failures.isEmpty(), () -> "connections failed: " + failures);
        long dry = onLoop(() -> poller().bufferRing().dryCount());
        assertTrue(dry > 0, "the ring never ran dry: the test tests nothing");
        assertEquals(0, (int) onLoop(() -> poller().bufferRing().out()), "every buffer back in the ring");
    }

    @Test
    void aSlowReaderHoldsBoundedMemory() throws Exception {
        start(new BufferRing.Shape(4096, 4096));
        Task<TcpStream> accepted = Task.of(loop, "acceptor", listener::accept).start();
        try (SocketChannel client = SocketChannel.open(listener.localAddress())) {
            UringTcpStream stream = (UringTcpStream) accepted.toFuture().get(10, TimeUnit.SECONDS);
            Coroutine.spawn(loop, "echo", () -> echo(stream));
            client.configureBlocking(false);
            // Send and never read, until the socket takes nothing and the server is seen paused for its
            // echo's write with no recv armed. Were it still reading, the sends would go on to the limit.
            long limit = 64L << 20;
            long sent = 0;
            int[] held = null;
            int out = -1;
            ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
            while (sent < limit) {
                chunk.clear();
                fill(chunk, sent);
                int n = client.write(chunk);
                sent += n;
                if (n == 0) {
                    int[] probe = onLoop(() -> {
                        int[] h = stream.held();
                        return new int[] {h[0], h[1], h[2], h[3], poller().bufferRing().out()};
                    });
                    if (probe[2] == 0 && probe[3] == 1) {
                        held = probe;
                        out = probe[4];
                        break;
                    }
                }
            }
            assertTrue(sent < limit, "the server kept reading while its echo could not be written");
            int peak = onLoop(() -> poller().bufferRing().peakOut());
            System.out.println("slow reader: sent " + sent + ", peak ring buffers out " + peak + ", spilled " + held[1]);
            assertEquals(0, out, "a paused connection holds no ring buffer (queued " + held[0] + ")");
            assertTrue(held[1] <= 512 * 1024, "spilled " + held[1] + " bytes");
            assertTrue(peak <= 256, "peak " + peak + " ring buffers out");
            // Now read: every byte comes back, in order.
            client.configureBlocking(true);
            ByteBuffer back = ByteBuffer.allocate(64 * 1024);
            long got = 0;
            while (got < sent) {
                back.clear();
                int n = client.read(back);
                assertTrue(n > 0, "EOF after " + got + " of " + sent);
                back.flip();
                for (int i = 0; i < n; i++, got++) {
                    if (back.get(i) != patternByte(got)) {
                        throw new AssertionError("byte " + got + " differs");
                    }
                }
            }
        }
        assertEquals(0, (int) onLoop(() -> poller().bufferRing().out()), "every buffer back in the ring");
    }

    @Test
    void closingWithTheMultishotArmedAndBytesQueuedGivesTheBuffersBackAndTheFdIsReused() throws Exception {
        closingWithBytesQueued(new BufferRing.Shape(64, 4096));
    }

    @Test
    void closingWithBytesUnreadOnTheSingleShotPath() throws Exception {
        closingWithBytesQueued(null);
    }

    private void closingWithBytesQueued(BufferRing.Shape shape) throws Exception {
        start(shape);
        try (LogCapture log = LogCapture.start(Level.WARNING); Socket first = connect()) {
            TcpStream stream = Task.of(loop, "acceptor", listener::accept).start().toFuture().get(10, TimeUnit.SECONDS);
            // One read arms the recv; then the coroutine stops reading and bytes queue behind it.
            Task<Integer> reader = Task.of(loop, "reader", () -> stream.read(loop.scratch())).start();
            first.getOutputStream().write(new byte[] {1});
            assertEquals(1, reader.toFuture().get(10, TimeUnit.SECONDS));
            first.getOutputStream().write(new byte[3 * 4096]);
            if (shape != null) {
                // Wait for the bytes to be queued on the stream (CQEs), loop turn by loop turn.
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (onLoop(() -> ((UringTcpStream) stream).held()[0]) < 3 && System.nanoTime() < deadline) {
                    onLoop(() -> null);
                }
                assertEquals(3, (int) onLoop(() -> ((UringTcpStream) stream).held()[0]));
            }
            onLoop(() -> {
                stream.close();
                return null;
            });
            // The fd is closed after the last CQE; closed with unread bytes, the peer sees a reset or EOF.
            first.setSoTimeout(10_000);
            try {
                assertEquals(-1, first.getInputStream().read());
            } catch (SocketException reset) {
                // "Connection reset": the kernel's answer to a close with bytes unread
            }
            if (shape != null) {
                assertEquals(0, (int) onLoop(() -> poller().bufferRing().out()), "every buffer back in the ring");
            }
            // A new connection (which may take the same fd number) is served by its own operations.
            acceptAndEcho(1);
            try (Socket second = connect()) {
                second.getOutputStream().write(new byte[] {1, 2, 3});
                assertArrayEquals(new byte[] {1, 2, 3}, readFully(second.getInputStream(), 3));
            }
            assertEquals(List.of(), log.lines(), "no stray completion, nothing in flight at close");
        }
    }

    @Test
    void halfCloseEchoesEverythingThenEof() throws Exception {
        halfClose(new BufferRing.Shape(64, 4096));
    }

    @Test
    void halfCloseOnTheSingleShotPath() throws Exception {
        halfClose(null);
    }

    private void halfClose(BufferRing.Shape shape) throws Exception {
        start(shape);
        acceptAndEcho(1);
        try (Socket s = connect()) {
            byte[] data = pattern(200_000, 7);
            s.getOutputStream().write(data);
            s.shutdownOutput(); // EOF right behind the bytes: queued after them
            s.setSoTimeout(20_000);
            assertArrayEquals(data, readFully(s.getInputStream(), data.length));
            assertEquals(-1, s.getInputStream().read(), "the server shut its side after the echo");
        }
        assertTrue(failures.isEmpty(), () -> "connection failed: " + failures);
    }

    /** Accepts n connections and echoes each (read into the loop's scratch, write back) until EOF. */
    private void acceptAndEcho(int n) {
        Coroutine.spawn(loop, "acceptor", () -> {
            for (int i = 0; i < n; i++) {
                TcpStream s = listener.accept();
                Coroutine.spawn(loop, "echo", () -> echo(s));
            }
        });
    }

    private void echo(TcpStream s) {
        try (s) {
            MemorySegment buf = loop.scratch();
            int n;
            while ((n = s.read(buf)) >= 0) {
                s.write(buf.asSlice(0, n));
            }
            s.shutdownOutput();
        } catch (IOException | RuntimeException e) {
            failures.add(e);
        }
    }

    private UringPoller poller() {
        return UringTransport.poller(loop);
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> body) throws Exception {
        return Task.of(loop, "probe", body).start().toFuture().get(10, TimeUnit.SECONDS);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(listener.localAddress(), 10_000);
        return s;
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }

    private static byte patternByte(long i) {
        return (byte) (i * 31 + (i >>> 10));
    }

    private static void fill(ByteBuffer b, long from) {
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, patternByte(from + i));
        }
    }

    private static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length);
        return b;
    }
}
