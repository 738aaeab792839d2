package io.coecho.server.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * UDP echo (RFC 862) against real sockets on loopback, for every transport: sizes up to the largest
 * datagram, the reflection safeguards, rate limits, oversize datagrams, IPv6.
 *
 * <p>No sleeps: "no answer" is proven by order. One loop serves one socket in arrival order, so once
 * the answer to a later probe is back, an earlier datagram has been dealt with, and an answer to it
 * would already be queued at its client; {@link UdpClient#pending()} looks without waiting.
 */
@Timeout(60)
class UdpEchoIT {
    private static Server start(TransportChoice transport, String host, UnaryOperator<UdpConfig.Builder> udp)
            throws IOException {
        return start(transport, host, 1, udp);
    }

    private static Server start(TransportChoice transport, String host, int loops,
            UnaryOperator<UdpConfig.Builder> udp) throws IOException {
        return Server.start(ServerConfig.builder().address(new InetSocketAddress(InetAddress.getByName(host), 0))
                .threads(loops).transport(transport).udp(udp.apply(UdpConfig.builder().enabled(true)).build())
                .build());
    }

    private static void stop(Server s) throws InterruptedException {
        s.closeNow();
        assertTrue(s.awaitTermination(Duration.ofSeconds(10)), "server stopped");
    }

    private static void awaitDropped(Server s, DropReason reason, long n) throws InterruptedException {
        // The counters are plain fields of the loop: poll briefly for the value to become visible.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (s.udpStats().dropped(reason) < n && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        assertEquals(n, s.udpStats().dropped(reason), "dropped " + reason);
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void echoesDatagramsOfEverySize(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", UnaryOperator.identity());
        try (UdpClient c = UdpClient.open("127.0.0.1", s.address())) {
            for (int size : new int[] {0, 1, 1472, 9000, 65_507}) {
                c.echo(UdpClient.random(size));
            }
            assertNull(c.pending(), "one answer per datagram");
        } finally {
            stop(s);
        }
        assertEquals(5, s.udpStats().echoed());
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void everyLoopAnswersOnTheSharedPort(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", 2, UnaryOperator.identity());
        try {
            // Two sockets share the port (SO_REUSEPORT); the kernel picks one per source: all answer.
            for (int i = 0; i < 16; i++) {
                try (UdpClient c = UdpClient.open("127.0.0.1", s.address())) {
                    c.echo(("client " + i).getBytes());
                }
            }
        } finally {
            stop(s);
        }
        assertEquals(16, s.udpStats().echoed());
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void servesTcpAndUdpOnTheSamePort(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", UnaryOperator.identity());
        try (UdpClient c = UdpClient.open("127.0.0.1", s.address());
                java.net.Socket tcp = new java.net.Socket(s.address().getAddress(), s.address().getPort())) {
            tcp.setSoTimeout(UdpClient.TIMEOUT_MS);
            tcp.getOutputStream().write("tcp".getBytes());
            assertArrayEquals("tcp".getBytes(), tcp.getInputStream().readNBytes(3));
            c.echo("udp".getBytes());
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void deniedSourcePortGetsNoAnswer(TransportChoice transport) throws Exception {
        try (UdpClient denied = UdpClient.open("127.0.0.1", new InetSocketAddress("127.0.0.1", 1))) {
            Server s = start(transport, "127.0.0.1", u -> u.deniedSourcePorts(Set.of(7, 19, denied.port())).minSourcePort(1024));
            try (UdpClient d = denied.target(s.address()); UdpClient probe = UdpClient.open("127.0.0.1", s.address())) {
                d.send("loop?".getBytes());
                probe.echo("probe".getBytes());
                assertNull(d.pending(), "no answer to a denied source port");
                awaitDropped(s, DropReason.REFLECTOR_PORT, 1);
            } finally {
                stop(s);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void wellKnownReflectorPortsAndPrivilegedPortsGetNoAnswer(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", UnaryOperator.identity());
        // chargen (19) is on the deny list; 1000 is merely below 1024. Binding them needs root (CI has it).
        try (UdpClient chargen = UdpClient.open(new InetSocketAddress("127.0.0.9", 19), s.address());
                UdpClient low = UdpClient.open(new InetSocketAddress("127.0.0.9", 1000), s.address());
                UdpClient self = UdpClient.open(new InetSocketAddress("127.0.0.2", s.address().getPort()), s.address());
                UdpClient probe = UdpClient.open("127.0.0.1", s.address())) {
            chargen.send("chargen".getBytes());
            low.send("low".getBytes());
            self.send("another echo server on our port".getBytes());
            probe.echo("probe".getBytes());
            assertNull(chargen.pending());
            assertNull(low.pending());
            assertNull(self.pending());
            awaitDropped(s, DropReason.REFLECTOR_PORT, 2);
            awaitDropped(s, DropReason.PRIVILEGED_PORT, 1);
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void aSourceAboveItsRateGetsOnlyItsRateAndOthersAreUnaffected(TransportChoice transport) throws Exception {
        // 1 datagram/s after a burst of 5: within the test's second, exactly 5 answers.
        Server s = start(transport, "127.0.0.1", u -> u.sourceRate(1).sourceBurst(5).globalRate(0).globalBurst(0));
        try (UdpClient flood = UdpClient.open("127.0.0.1", s.address());
                UdpClient other = UdpClient.open("127.0.0.2", s.address())) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                flood.send(ByteBuffer.allocate(4).putInt(i).array());
            }
            for (int i = 0; i < 5; i++) {
                other.echo(("other " + i).getBytes());
            }
            long elapsedSeconds = (System.nanoTime() - t0) / 1_000_000_000L;
            int answered = 0;
            for (byte[] a; (a = flood.pending()) != null; answered++) {
                if (answered < 5) {
                    assertEquals(answered, ByteBuffer.wrap(a).getInt(), "the burst is answered in order");
                }
            }
            // A slow machine may let the bucket refill a token per second of the test.
            assertTrue(answered >= 5 && answered <= 5 + elapsedSeconds + 1, "answered " + answered);
            awaitDropped(s, DropReason.SOURCE_RATE, 50 - answered);
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void theGlobalRateCapsEveryone(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", u -> u.sourceRate(0).sourceBurst(0).globalRate(1).globalBurst(3));
        try (UdpClient a = UdpClient.open("127.0.0.1", s.address());
                UdpClient b = UdpClient.open("127.0.0.2", s.address())) {
            a.echo("a1".getBytes());
            b.echo("b1".getBytes());
            a.echo("a2".getBytes());
            b.send("b2".getBytes());
            a.send("a3".getBytes());
            awaitDropped(s, DropReason.GLOBAL_RATE, 2);
            assertNull(a.pending());
            assertNull(b.pending());
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void oversizeDatagramsAreCountedNotEchoedCut(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", u -> u.maxDatagram(1000));
        try (UdpClient c = UdpClient.open("127.0.0.1", s.address())) {
            c.send(UdpClient.random(1001));
            c.send(UdpClient.random(65_507));
            c.echo(UdpClient.random(1000));
            assertNull(c.pending(), "no answer, whole or cut, to an oversize datagram");
            awaitDropped(s, DropReason.OVERSIZE, 2);
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void aClientThatLeftBeforeItsAnswerHarmsNoOne(TransportChoice transport) throws Exception {
        Server s = start(transport, "127.0.0.1", UnaryOperator.identity());
        try (UdpClient probe = UdpClient.open("127.0.0.1", s.address())) {
            for (int i = 0; i < 3; i++) {
                // The answer goes to a closed port: ICMP port unreachable, which must not stop the socket.
                UdpClient gone = UdpClient.open("127.0.0.1", s.address());
                gone.send(UdpClient.random(100));
                gone.close();
            }
            probe.echo("still here".getBytes());
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void echoesOverIpv6(TransportChoice transport) throws Exception {
        Server s = start(transport, "::1", u -> u.maxDatagram(65_527));
        try (UdpClient c = UdpClient.open("::1", s.address())) {
            for (int size : new int[] {0, 1, 1452, 65_507, 65_527}) {
                c.echo(UdpClient.random(size));
            }
        } finally {
            stop(s);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"EPOLL", "IO_URING", "NIO"})
    void aDualStackServerAnswersIpv4SourcesAndStillFiltersThem(TransportChoice transport) throws Exception {
        try (UdpClient denied = UdpClient.open("127.0.0.1", new InetSocketAddress("127.0.0.1", 1))) {
            Server s = start(transport, "::", u -> u.deniedSourcePorts(Set.of(denied.port())).minSourcePort(1024));
            InetSocketAddress v4 = new InetSocketAddress("127.0.0.1", s.address().getPort());
            try (UdpClient d = denied.target(v4);
                    UdpClient c = UdpClient.open("127.0.0.1", v4)) {
                d.send("no".getBytes());
                c.echo("mapped".getBytes());
                assertNull(d.pending());
                awaitDropped(s, DropReason.REFLECTOR_PORT, 1);
            } finally {
                stop(s);
            }
        }
    }
}
