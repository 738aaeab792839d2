package io.coecho.examples.forwarder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.runtime.TransportChoice;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The forwarder between real loopback sockets, on each transport: plain JDK sockets on both sides
 * (a client, and a target server written with java.net), so that only the forwarder is under test.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwarderIT {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /**
     * Ten clients at once, each sending 256 KiB of its own random bytes and then shutting down its
     * side: each gets its bytes back, byte for byte, then EOF. The EOF it reads is the echo server's,
     * so the client's half-close went through to the target and the target's came back.
     */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void bytesComeBackThroughTheForwarderThenEof(TransportChoice transport) throws Exception {
        try (Target echo = Target.start(Target::echo);
                Forwarder forwarder = Forwarder.start(transport, ANY_LOOPBACK, echo.address());
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> clients = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                byte[] payload = new byte[256 * 1024];
                new Random(i).nextBytes(payload);
                clients.add(threads.submit(() -> {
                    try (Socket s = connect(forwarder)) {
                        Future<?> writer = threads.submit(() -> {
                            s.getOutputStream().write(payload);
                            s.shutdownOutput();
                            return null;
                        });
                        assertArrayEquals(payload, s.getInputStream().readAllBytes()); // up to EOF
                        writer.get();
                    }
                    return null;
                }));
            }
            for (Future<?> c : clients) {
                c.get();
            }
        }
    }

    /**
     * The client half-closes and the other way goes on: the target reads to EOF (which it sees only
     * if the forwarder passed the client's FIN on), then answers and closes; the client gets the
     * answer after its own half-close, then EOF.
     */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void halfCloseIsPassedOnAndTheOtherWayGoesOn(TransportChoice transport) throws Exception {
        try (Target counter = Target.start(Target::countThenAnswer);
                Forwarder forwarder = Forwarder.start(transport, ANY_LOOPBACK, counter.address());
                Socket s = connect(forwarder)) {
            s.getOutputStream().write(new byte[100_000]);
            s.shutdownOutput();
            assertEquals("got 100000 bytes", new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    /** A target nobody listens on: the client's connection is closed, nothing else happens. */
    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void anUnreachableTargetClosesTheClient(TransportChoice transport) throws Exception {
        InetSocketAddress nobody;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = (InetSocketAddress) probe.getLocalSocketAddress();
        }
        try (Forwarder forwarder = Forwarder.start(transport, ANY_LOOPBACK, nobody); Socket s = connect(forwarder)) {
            assertEquals(-1, s.getInputStream().read());
        }
    }

    private static Socket connect(Forwarder forwarder) throws IOException {
        Socket s = new Socket();
        s.connect(forwarder.address(), 5_000);
        s.setSoTimeout(30_000);
        return s;
    }
}
