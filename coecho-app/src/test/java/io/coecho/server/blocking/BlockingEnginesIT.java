package io.coecho.server.blocking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.Engine;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.ServerStats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The virtual-threads and threads engines over real loopback sockets, each test run on both. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BlockingEnginesIT {

    private static ServerConfig config(Engine engine, int maxConnections, Duration shutdownTimeout) {
        return ServerConfig.builder().engine(engine).maxConnections(maxConnections).shutdownTimeout(shutdownTimeout)
                .build();
    }

    private static Server start(Engine engine) throws IOException {
        return Server.start(config(engine, 0, Duration.ofSeconds(5)));
    }

    private static Socket connect(Server server) throws IOException {
        Socket s = new Socket();
        s.connect(server.address(), 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static void stop(Server server) throws InterruptedException {
        server.closeNow();
        assertTrue(server.awaitTermination(Duration.ofSeconds(5)), "server terminated");
    }

    private static byte[] readExactly(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "bytes before EOF");
        return b;
    }

    /** Polls a counter-based condition (no sleep as synchronisation): true within 10 s, or fail. */
    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            LockSupport.parkNanos(1_000_000);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void echoesLines(Engine engine) throws Exception {
        Server server = start(engine);
        try (Socket s = connect(server)) {
            assertEquals(engine.label() + " engine, 1 acceptor", server.description());
            for (int i = 0; i < 100; i++) {
                byte[] line = ("line " + i + "\n").getBytes(StandardCharsets.US_ASCII);
                s.getOutputStream().write(line);
                assertArrayEquals(line, readExactly(s.getInputStream(), line.length));
            }
        } finally {
            stop(server);
        }
        assertEquals(1, server.stats().accepted());
        assertEquals(1, server.stats().closed());
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void echoes16MiBToSlowReaderThenHalfCloses(Engine engine) throws Exception {
        Server server = start(engine);
        byte[] sent = random(16 * 1024 * 1024);
        try (Socket s = connect(server)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(sent);
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            // A slow reader: small reads with a pause now and then, so the server's writes block.
            ByteArrayOutputStream got = new ByteArrayOutputStream(sent.length);
            byte[] chunk = new byte[4096];
            InputStream in = s.getInputStream();
            for (int n, reads = 0; (n = in.read(chunk)) >= 0; reads++) {
                got.write(chunk, 0, n);
                if (reads % 64 == 0) {
                    LockSupport.parkNanos(1_000_000);
                }
            }
            writer.get(10, TimeUnit.SECONDS);
            assertArrayEquals(sent, got.toByteArray(), "every byte back, in order, then EOF");
        } finally {
            stop(server);
        }
        assertEquals(sent.length, server.stats().bytesOut());
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void halfCloseGetsEverythingBackThenEof(Engine engine) throws Exception {
        Server server = start(engine);
        try (Socket s = connect(server)) {
            byte[] sent = random(100_000);
            s.getOutputStream().write(sent);
            s.shutdownOutput();
            assertArrayEquals(sent, readExactly(s.getInputStream(), sent.length));
            assertEquals(-1, s.getInputStream().read(), "the server closed its side after the echo");
        } finally {
            stop(server);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void peerResetLeavesOthersServed(Engine engine) throws Exception {
        Server server = start(engine);
        try (Socket other = connect(server)) {
            byte[] ping = "ping\n".getBytes(StandardCharsets.US_ASCII);
            other.getOutputStream().write(ping);
            assertArrayEquals(ping, readExactly(other.getInputStream(), ping.length));
            for (int i = 0; i < 5; i++) {
                // Each one sends more than the buffers hold without reading, then resets: the server
                // is writing when the reset comes (broken pipe or reset on its side).
                Socket rude = connect(server);
                CompletableFuture.runAsync(() -> {
                    try {
                        rude.getOutputStream().write(random(4 * 1024 * 1024));
                    } catch (IOException e) {
                        // expected: the socket is reset under the writer
                    }
                });
                long before = server.stats().bytesIn();
                await(() -> server.stats().bytesIn() > before, "the server reads from the rude client");
                rude.setSoLinger(true, 0);
                rude.close();
            }
            other.getOutputStream().write(ping);
            assertArrayEquals(ping, readExactly(other.getInputStream(), ping.length));
            await(() -> server.stats().closed() == 5, "every reset connection is closed");
            assertEquals(1, server.stats().active());
        } finally {
            stop(server);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void gracefulCloseDrainsWhatWasReceivedAndClosesIdleOnes(Engine engine) throws Exception {
        Server server = Server.start(config(engine, 0, Duration.ofSeconds(20)).toBuilder().bufferSize(64 * 1024)
                .build());
        Socket idle = connect(server);
        Socket busy = new Socket();
        busy.setReceiveBufferSize(16 * 1024); // the echo backs up: the server likely still writes at close()
        busy.connect(server.address(), 5_000);
        busy.setSoTimeout(10_000);
        try (idle; busy) {
            byte[] sent = random(64 * 1024);
            busy.getOutputStream().write(sent);
            // Received means read by the server: a returned write() only puts bytes in our own kernel.
            await(() -> server.stats().bytesIn() == sent.length && server.stats().active() == 2,
                    "the server has received everything");
            server.close();
            assertEquals(-1, idle.getInputStream().read(), "an idle connection is closed");
            assertArrayEquals(sent, readExactly(busy.getInputStream(), sent.length));
            assertEquals(-1, busy.getInputStream().read(), "EOF after the drained echo");
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)));
            assertThrows(IOException.class, () -> connect(server).close(), "no longer accepting");
        }
        ServerStats st = server.stats();
        assertEquals(2, st.drained());
        assertEquals(0, st.cut());
        assertEquals(0, st.active());
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void gracefulCloseCutsWhatIsStillBusyAtTheShutdownTimeout(Engine engine) throws Exception {
        Server server = Server.start(config(engine, 0, Duration.ofMillis(300)));
        try (Socket stuck = new Socket()) {
            stuck.setReceiveBufferSize(4096);
            stuck.connect(server.address(), 5_000);
            // It sends and never reads, until the server stays busy writing (however large the buffers).
            io.coecho.Traffic.Sender.flood(stuck, 1L << 32);
            // Blocked writing (not in a read, which a drain would end): the server says so.
            await(() -> server.stats().writesWaiting() == 1, "the server blocks writing to the stuck peer");
            server.close();
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)), "terminated after the shutdown timeout");
        }
        assertEquals(1, server.stats().cut());
        assertEquals(0, server.stats().drained());
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void maxConnectionsHoldsTheNextClientInTheBacklog(Engine engine) throws Exception {
        Server server = Server.start(config(engine, 2, Duration.ofSeconds(5)));
        byte[] ping = "ping\n".getBytes(StandardCharsets.US_ASCII);
        try (Socket a = connect(server); Socket b = connect(server); Socket c = connect(server)) {
            for (Socket s : new Socket[] {a, b}) {
                s.getOutputStream().write(ping);
                assertArrayEquals(ping, readExactly(s.getInputStream(), ping.length));
            }
            c.getOutputStream().write(ping); // connected (the kernel's backlog), but not accepted
            c.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> c.getInputStream().read(), "held in the backlog");
            assertEquals(2, server.stats().accepted());
            a.close();
            c.setSoTimeout(10_000);
            assertArrayEquals(ping, readExactly(c.getInputStream(), ping.length), "served once a slot freed");
            assertEquals(3, server.stats().accepted());
        } finally {
            stop(server);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void watchdogClosesIdleConnectionsAndPeersThatStopReading(Engine engine) throws Exception {
        Server server = Server.start(ServerConfig.builder().engine(engine).idleTimeout(Duration.ofSeconds(1))
                .writeTimeout(Duration.ofMillis(200)).build());
        try (Socket idle = connect(server); Socket stuck = connect(server)) {
            // It sends and never reads until the server cuts it: the flood fails then.
            io.coecho.Traffic.Sender.flood(stuck, 1L << 32);
            assertEquals(-1, idle.getInputStream().read(), "closed after 1 s without traffic");
            await(() -> server.stats().writeTimeouts() == 1, "the peer that stopped reading is cut");
            assertEquals(1, server.stats().idleTimeouts());
            await(() -> server.stats().active() == 0, "both are gone");
        } finally {
            stop(server);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Engine.class, names = {"VIRTUAL_THREADS", "THREADS"})
    void portInUseFailsWithAClearMessage(Engine engine) throws Exception {
        Server first = start(engine);
        try {
            ServerConfig same = config(engine, 0, Duration.ofSeconds(5)).toBuilder()
                    .address(new InetSocketAddress("127.0.0.1", first.address().getPort())).build();
            IOException e = assertThrows(IOException.class, () -> Server.start(same));
            assertTrue(e.getMessage().contains("address already in use"), e.getMessage());
        } finally {
            stop(first);
        }
    }
}
