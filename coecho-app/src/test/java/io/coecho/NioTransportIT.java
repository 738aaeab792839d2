package io.coecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Task;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The nio transport through the echo server, on loopback, each check run on nio and on epoll too, so
 * that both transports are held to the same behaviour. The project's scenario suite covers the rest.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NioTransportIT {

    @ParameterizedTest
    @EnumSource(names = {"NIO", "EPOLL"})
    void echoesLines(TransportChoice transport) throws Exception {
        try (Running server = Running.start(transport);
                Socket s = server.connect();
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
            OutputStream out = s.getOutputStream();
            for (String line : List.of("hello", "coroutine echo", "", "last line")) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                assertEquals(line, in.readLine());
            }
        }
    }

    /**
     * 16 MiB from a client that writes whenever it can and reads only 4 KiB per round, with a small
     * receive buffer: the server's writes go partial and must resume on write readiness, and while
     * they wait it must stop reading. Every byte is compared; then the client's half-close must
     * come back as EOF.
     */
    @ParameterizedTest
    @EnumSource(names = {"NIO", "EPOLL"})
    void slowReaderGetsSixteenMebibytesBack(TransportChoice transport) throws Exception {
        byte[] payload = random(16 << 20, 16);
        byte[] echoed = new byte[payload.length];
        try (Running server = Running.start(transport);
                SocketChannel ch = SocketChannel.open();
                Selector selector = Selector.open()) {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 8 * 1024);
            ch.connect(server.address());
            ch.configureBlocking(false);
            SelectionKey key = ch.register(selector, 0);
            ByteBuffer out = ByteBuffer.wrap(payload);
            ByteBuffer in = ByteBuffer.wrap(echoed);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(50);
            boolean eof = false;
            while (!eof) {
                assertTrue(System.nanoTime() < deadline, "echoed only " + in.position() + " bytes in time");
                key.interestOps(SelectionKey.OP_READ | (out.hasRemaining() ? SelectionKey.OP_WRITE : 0));
                selector.select(1000);
                selector.selectedKeys().clear();
                if (out.hasRemaining() && key.isValid() && key.isWritable()) {
                    while (out.hasRemaining() && ch.write(out) > 0) {
                        // write while the socket takes it
                    }
                    if (!out.hasRemaining()) {
                        ch.shutdownOutput();
                    }
                }
                if (key.isValid() && key.isReadable()) {
                    if (!in.hasRemaining()) {
                        eof = ch.read(ByteBuffer.allocate(1)) < 0;
                        assertTrue(eof, "more bytes echoed than sent");
                    } else {
                        in.limit(Math.min(in.position() + 4096, in.capacity()));
                        assertTrue(ch.read(in) >= 0, "EOF after " + in.position() + " bytes");
                        in.limit(in.capacity());
                    }
                }
            }
        }
        assertArrayEquals(payload, echoed);
    }

    @ParameterizedTest
    @EnumSource(names = {"NIO", "EPOLL"})
    void halfCloseEchoesEverythingThenEof(TransportChoice transport) throws Exception {
        byte[] payload = random(256 * 1024, 2);
        try (Running server = Running.start(transport); Socket s = server.connect()) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(payload);
                    s.shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            byte[] echoed = s.getInputStream().readAllBytes(); // returns at the server's EOF
            writer.get(10, TimeUnit.SECONDS);
            assertArrayEquals(payload, echoed);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"NIO", "EPOLL"})
    void servesHundredClientsAtOnce(TransportChoice transport) throws Exception {
        try (Running server = Running.start(transport);
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> clients = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                byte[] payload = random(1 + i * 997, i);
                clients.add(threads.submit(() -> {
                    try (Socket s = server.connect()) {
                        Future<?> writer = threads.submit(() -> {
                            s.getOutputStream().write(payload);
                            s.shutdownOutput();
                            return null;
                        });
                        byte[] echoed = s.getInputStream().readAllBytes();
                        writer.get();
                        return java.util.Arrays.equals(payload, echoed);
                    }
                }));
            }
            for (int i = 0; i < clients.size(); i++) {
                assertTrue(clients.get(i).get(30, TimeUnit.SECONDS), "client " + i + " got other bytes back");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"NIO", "EPOLL"})
    void portInUseReadsLikeEpoll(TransportChoice transport) throws Exception {
        try (Running server = Running.start(transport)) {
            int port = server.address().getPort();
            ServerConfig config = ServerConfig.builder().address(new InetSocketAddress("127.0.0.1", port))
                    .transport(transport).shutdownTimeout(Duration.ofSeconds(1)).build();
            BindException e = assertThrows(BindException.class, () -> Server.start(config));
            assertEquals("cannot bind 127.0.0.1:" + port + ": address already in use", e.getMessage());
        }
    }

    /** Connecting from a coroutine: to the echo server, then to a port where nobody listens. */
    @ParameterizedTest
    @EnumSource(names = {"NIO", "EPOLL"})
    void connectsFromCoroutineAndReportsRefusal(TransportChoice transport) throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        var t = transport.open();
        var loop = t.newLoop("client", 4096).start();
        try (Running server = Running.start(transport)) {
            String reply = Task.of(loop, "client", () -> {
                try (var stream = t.connect(loop, server.address())) {
                    var buf = java.lang.foreign.Arena.ofAuto().allocate(64);
                    buf.copyFrom(java.lang.foreign.MemorySegment.ofArray("ping\n".getBytes(StandardCharsets.US_ASCII)));
                    stream.write(buf.asSlice(0, 5));
                    int n = stream.read(buf);
                    return new String(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
                }
            }).toFuture().get(10, TimeUnit.SECONDS);
            assertEquals("ping\n", reply);
            InetSocketAddress nobody = new InetSocketAddress("127.0.0.1", closedPort);
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> Task.of(loop, "refused", () -> t.connect(loop, nobody)).toFuture().get(10, TimeUnit.SECONDS));
            assertInstanceOf(ConnectException.class, e.getCause());
            assertEquals("connection refused: 127.0.0.1:" + closedPort, e.getCause().getMessage());
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(5)));
        }
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A server on an ephemeral loopback port, shut down (and waited for) on close. */
    record Running(Server server) implements AutoCloseable {
        static Running start(TransportChoice transport) throws Exception {
            return new Running(Server.start(ServerConfig.builder().transport(transport).build()));
        }

        InetSocketAddress address() {
            return server.address();
        }

        Socket connect() throws Exception {
            Socket s = new Socket();
            s.connect(server.address(), 5000);
            s.setSoTimeout(30_000);
            return s;
        }

        @Override
        public void close() throws Exception {
            server.closeNow();
            assertTrue(server.awaitTermination(Duration.ofSeconds(10)), "server did not stop");
        }
    }
}
