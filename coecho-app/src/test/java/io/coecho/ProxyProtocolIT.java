package io.coecho;

import static io.coecho.ProxyHeaders.ascii;
import static io.coecho.ProxyHeaders.concat;
import static io.coecho.ProxyHeaders.tlv;
import static io.coecho.ProxyHeaders.v1;
import static io.coecho.ProxyHeaders.v2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.coecho.runtime.LogCapture;
import io.coecho.server.ServerStats;
import io.coecho.server.proxy.CidrList;
import io.coecho.server.proxy.ProxyConfig;
import io.coecho.server.proxy.ProxyRejection;
import io.coecho.server.udp.UdpConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * --proxy-protocol, on every transport and engine, with real sockets: the header (v1, v2; IPv4,
 * IPv6, LOCAL, TLVs) is read before any echo and never echoed, what follows it in the same segment
 * is echoed first, and the client it names is the one the DEBUG log reports; a header split across
 * segments at every byte boundary is put together (the server logs at TRACE each time it waits for
 * more, and the test sends the rest only then, so every split is real); every malformed kind, an
 * untrusted peer and a header that never completes close the connection, counted by reason.
 */
class ProxyProtocolIT {
    private static final byte[] HELLO = ascii("hello, balancer\n");

    private static UnaryOperator<io.coecho.server.ServerConfig.Builder> proxyOn() {
        return c -> c.proxy(ProxyConfig.from(CidrList.LOOPBACK));
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void v1Ipv4WithPayloadInTheSameSegment(ServerTarget target) throws Exception {
        try (LogCapture log = LogCapture.start(Level.FINE); TestServer server = TestServer.start(target, proxyOn());
                Socket c = server.connect()) {
            assertEquals(text(HELLO), exchange(c, concat(v1("192.0.2.1", "198.51.100.7", 56324, 7), HELLO)),
                    target + ": only the payload comes back");
            accepted(log, "192.0.2.1", 56324, "PROXY v1", c);
            ServerStats s = server.awaitStats("the connection closed", st -> st.closed() == 1);
            assertEquals(HELLO.length, s.bytesIn(), target + ": the header is not counted as echo: " + s);
            assertEquals(HELLO.length, s.bytesOut(), target + ": " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void v1Ipv6(ServerTarget target) throws Exception {
        try (LogCapture log = LogCapture.start(Level.FINE); TestServer server = TestServer.start(target, proxyOn());
                Socket c = server.connect()) {
            assertEquals(text(HELLO), exchange(c, concat(v1("2001:db8::1", "2001:db8::2", 443, 7), HELLO)));
            accepted(log, "2001:db8:0:0:0:0:0:1", 443, "PROXY v1", c);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void v2Ipv4AndABigPayload(ServerTarget target) throws Exception {
        byte[] payload = Traffic.payload(new Random(10), 1 << 20);
        try (LogCapture log = LogCapture.start(Level.FINE); TestServer server = TestServer.start(target, proxyOn());
                Socket c = server.connect()) {
            assertArrayEquals(payload, echoAll(c, concat(v2("203.0.113.9", "198.51.100.7", 40000, 7), payload)),
                    target + ": every payload byte, and nothing of the header");
            accepted(log, "203.0.113.9", 40000, "PROXY v2", c);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void v2Ipv6WithTlvs(ServerTarget target) throws Exception {
        byte[] header = v2("2001:db8::9", "2001:db8::2", 50000, 7, tlv(0x01, ascii("h2")),
                tlv(0x02, ascii("echo.example")), tlv(0x05, new byte[128]), tlv(0x20, new byte[] {1, 0, 0, 0, 0}),
                tlv(0xE0, new byte[300]));
        try (LogCapture log = LogCapture.start(Level.FINE); TestServer server = TestServer.start(target, proxyOn());
                Socket c = server.connect()) {
            assertEquals(text(HELLO), exchange(c, concat(header, HELLO)));
            accepted(log, "2001:db8:0:0:0:0:0:9", 50000, "PROXY v2", c);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void v2LocalIsTheBalancersOwnConnection(ServerTarget target) throws Exception {
        try (LogCapture log = LogCapture.start(Level.FINE); TestServer server = TestServer.start(target, proxyOn());
                Socket c = server.connect()) {
            assertEquals(text(HELLO), exchange(c, concat(ProxyHeaders.v2Local(), HELLO)));
            accepted(log, "127.0.0.1", c.getLocalPort(), "PROXY v2 LOCAL", c);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void headersSplitAtEveryByteBoundary(ServerTarget target) throws Exception {
        // The v2 header ends in a TLV: a split inside it exercises the reading on after the parser
        // has its addresses.
        Map<String, byte[]> headers = new LinkedHashMap<>();
        headers.put("v1", v1("192.0.2.77", "198.51.100.7", 1234, 7));
        headers.put("v2", v2("2001:db8::77", "2001:db8::2", 1234, 7, tlv(0x02, ascii("sni.example"))));
        try (LogCapture log = LogCapture.start(Level.FINEST); TestServer server = TestServer.start(target, proxyOn())) {
            int connections = 0;
            for (Map.Entry<String, byte[]> h : headers.entrySet()) {
                byte[] header = h.getValue();
                for (int split = 1; split < header.length; split++) {
                    int mark = log.lines().size();
                    try (Socket c = server.connect()) {
                        c.setTcpNoDelay(true);
                        c.getOutputStream().write(header, 0, split);
                        // The server has read exactly these bytes and waits for more: the rest is a new segment.
                        LogLines.await(log, mark, Pattern.compile("PROXY header incomplete after " + split + " bytes$"));
                        c.getOutputStream().write(concat(java.util.Arrays.copyOfRange(header, split, header.length), HELLO));
                        assertArrayEquals(HELLO, Traffic.readFully(c.getInputStream(), HELLO.length),
                                target + ": " + h.getKey() + " split after " + split + " bytes");
                    }
                    connections++;
                }
            }
            int all = connections;
            ServerStats s = server.awaitStats("every split connection closed", st -> st.closed() == all);
            assertEquals(0, s.proxyRejected().total(), target + ": " + s);
            assertEquals((long) all * HELLO.length, s.bytesOut(), target + ": " + s);
        }
    }

    /** Every way a header can be wrong, with the reason it is counted under. */
    static Stream<Object[]> malformed() {
        byte[] shortAddresses = v2(ProxyHeaders.PROXY, ProxyHeaders.TCP4, new byte[8]);
        byte[] hugeLength = concat(ProxyHeaders.V2_SIGNATURE, new byte[] {0x21, 0x11, (byte) 0xFF, (byte) 0xFF}, new byte[64]);
        byte[] badSignature = v2("192.0.2.1", "198.51.100.7", 1, 7);
        badSignature[7] = 'q';
        return Stream.of(
                new Object[] {"v1 with a bad address", ascii("PROXY TCP4 192.0.2.300 198.51.100.7 1 7\r\n"), ProxyRejection.MALFORMED},
                new Object[] {"v1 ending in LF alone", ascii("PROXY TCP4 192.0.2.1 198.51.100.7 1 7\n"), ProxyRejection.MALFORMED},
                new Object[] {"v1 with a port too big", ascii("PROXY TCP4 192.0.2.1 198.51.100.7 65536 7\r\n"), ProxyRejection.MALFORMED},
                new Object[] {"no header at all", ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ProxyRejection.MALFORMED},
                new Object[] {"v2 with a bad signature", badSignature, ProxyRejection.MALFORMED},
                new Object[] {"v2 addresses shorter than the family", shortAddresses, ProxyRejection.MALFORMED},
                new Object[] {"v1 over 107 bytes", ascii("PROXY UNKNOWN " + "x".repeat(100) + "\r\n"), ProxyRejection.TOO_LONG},
                new Object[] {"v2 longer than 16 KiB", hugeLength, ProxyRejection.TOO_LONG},
                new Object[] {"v1 UDP4", ascii("PROXY UDP4 192.0.2.1 198.51.100.7 1 7\r\n"), ProxyRejection.UNSUPPORTED},
                new Object[] {"v2 version 1", v2(0x11, ProxyHeaders.TCP4, new byte[12]), ProxyRejection.UNSUPPORTED},
                new Object[] {"v2 command 2", v2(0x22, ProxyHeaders.TCP4, new byte[12]), ProxyRejection.UNSUPPORTED},
                new Object[] {"v2 family 4", v2(0x21, 0x41, new byte[12]), ProxyRejection.UNSUPPORTED},
                new Object[] {"v2 transport 3", v2(0x21, 0x13, new byte[12]), ProxyRejection.UNSUPPORTED});
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void eachMalformedKindIsClosedUnechoedAndCounted(ServerTarget target) throws Exception {
        Map<ProxyRejection, Long> expected = new EnumMap<>(ProxyRejection.class);
        try (LogCapture log = LogCapture.start(Level.FINE); TestServer server = TestServer.start(target, proxyOn())) {
            for (Object[] m : malformed().toList()) {
                String what = target + ": " + m[0];
                ProxyRejection why = (ProxyRejection) m[2];
                int mark = log.lines().size();
                try (Socket c = server.connect()) {
                    c.getOutputStream().write(concat((byte[]) m[1], HELLO));
                    assertClosedUnechoed(c, what);
                }
                LogLines.await(log, mark, Pattern.compile("refused, PROXY header " + why.label() + " \\("));
                expected.merge(why, 1L, Long::sum);
            }
            // A header cut short by the peer's FIN.
            try (Socket c = server.connect()) {
                c.getOutputStream().write(ascii("PROXY TCP4 192.0.2"));
                c.shutdownOutput();
                assertClosedUnechoed(c, target + ": a truncated header");
            }
            expected.merge(ProxyRejection.TRUNCATED, 1L, Long::sum);
            int total = (int) malformed().count() + 1;
            ServerStats s = server.awaitStats("every refused connection closed", st -> st.closed() == total);
            for (ProxyRejection r : ProxyRejection.values()) {
                assertEquals(expected.getOrDefault(r, 0L), s.proxyRejected().count(r), target + ": " + r + " in " + s);
            }
            assertEquals(0, s.bytesOut(), target + ": " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void anUntrustedPeerIsClosedUnread(ServerTarget target) throws Exception {
        try (LogCapture log = LogCapture.start(Level.FINE);
                TestServer server = TestServer.start(target, c -> c.proxy(ProxyConfig.from(CidrList.parse("192.0.2.0/24"))))) {
            for (int i = 0; i < 2; i++) {
                try (Socket c = server.connect()) {
                    c.getOutputStream().write(concat(v1("192.0.2.1", "198.51.100.7", 1, 7), HELLO));
                    assertClosedUnechoed(c, target + ": untrusted " + i);
                }
            }
            ServerStats s = server.awaitStats("two untrusted connections refused", st -> st.proxyRejected().untrusted() == 2);
            assertEquals(2, s.proxyRejected().total(), target + ": " + s);
            List<String> warnings = log.lines().stream().filter(l -> l.startsWith("WARNING")).toList();
            assertEquals(1, warnings.size(), target + ": said once loudly: " + log.lines());
            assertTrue(warnings.getFirst().contains("not in --proxy-trusted (192.0.2.0/24)"), warnings.getFirst());
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aHeaderNotCompleteInTimeIsClosedWhileOthersAreServed(ServerTarget target) throws Exception {
        Duration timeout = Duration.ofMillis(400);
        try (TestServer server = TestServer.start(target,
                c -> c.proxy(new ProxyConfig(true, CidrList.LOOPBACK, timeout)).idleTimeout(Duration.ofMinutes(5)))) {
            long start = System.nanoTime();
            try (Socket silent = server.connect(); Socket partial = server.connect(); Socket good = server.connect()) {
                partial.getOutputStream().write(ascii("PROXY TCP4 192.0.2.1 "));
                good.getOutputStream().write(v2("192.0.2.5", "198.51.100.7", 5, 7));
                // The good one is served meanwhile, and well past the header timeout too (it applies
                // to the header only; the idle timeout takes over once the header is in).
                Traffic.echo(good, HELLO, target + ": served while others wait");
                assertClosedUnechoed(silent, target + ": a client that never sends a header");
                assertClosedUnechoed(partial, target + ": a header that never completes");
                long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(waited >= timeout.toMillis(), target + ": closed after " + waited + " ms");
                server.awaitStats("two header timeouts", st -> st.proxyRejected().timeout() == 2);
                Traffic.echo(good, HELLO, target + ": still served after the timeouts");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aGracefulShutdownEndsConnectionsStillAwaitingTheirHeader(ServerTarget target) throws Exception {
        // Neither the header timeout nor the shutdown timeout may be what ends them: both are long.
        try (LogCapture log = LogCapture.start(Level.FINEST);
                TestServer server = TestServer.start(target, c -> c.proxy(new ProxyConfig(true, CidrList.LOOPBACK,
                        Duration.ofSeconds(60))).shutdownTimeout(Duration.ofSeconds(60)));
                Socket silent = server.connect();
                Socket partial = server.connect()) {
            partial.getOutputStream().write(ascii("PROXY TCP4 192.0.2.1"));
            LogLines.await(log, 0, Pattern.compile("PROXY header incomplete after 20 bytes$"));
            server.awaitStats("both accepted", s -> s.accepted() == 2);
            server.server().close();
            assertClosedUnechoed(silent, target + ": a connection that sent nothing yet");
            assertClosedUnechoed(partial, target + ": a connection halfway through its header");
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(20)), target + ": terminated by the drain");
            ServerStats s = server.server().stats();
            assertEquals(0, s.cut(), target + ": " + s);
            assertEquals(0, s.proxyRejected().total(), target + ": a drain is not a refusal: " + s);
        }
    }

    @ParameterizedTest(allowZeroInvocations = true) // none when -Dcoecho.targets names no target with UDP
    @MethodSource("io.coecho.ServerTarget#selectedWithUdp")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void udpIgnoresIt(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, c -> c.proxy(ProxyConfig.from(CidrList.LOOPBACK))
                .udp(UdpConfig.builder().enabled(true).build()));
                DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            udp.setSoTimeout((int) TestServer.READ_TIMEOUT.toMillis());
            byte[] datagram = concat(v1("192.0.2.1", "198.51.100.7", 1, 7), HELLO);
            udp.send(new DatagramPacket(datagram, datagram.length, server.address()));
            DatagramPacket back = new DatagramPacket(new byte[1024], 1024);
            udp.receive(back);
            assertArrayEquals(datagram, java.util.Arrays.copyOf(back.getData(), back.getLength()),
                    target + ": a datagram is echoed as it is, header-like bytes and all");
        }
    }


    // ---- helpers ----

    /** Writes bytes, half-closes, and returns what comes back before EOF, as text. */
    private static String exchange(Socket c, byte[] bytes) throws Exception {
        return text(echoAll(c, bytes));
    }

    private static String text(byte[] b) {
        return new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** Sends bytes (on another thread, so a large echo cannot deadlock us), half-closes, reads to EOF. */
    private static byte[] echoAll(Socket c, byte[] bytes) throws Exception {
        Traffic.Sender sender = Traffic.Sender.start(c, bytes, true);
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        InputStream in = c.getInputStream();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
            back.write(buf, 0, n);
        }
        sender.join();
        return back.toByteArray();
    }

    /** The server closes: EOF or a reset (it closed with our bytes unread), never a byte of echo. */
    static void assertClosedUnechoed(Socket c, String what) throws IOException {
        c.setSoTimeout(10_000);
        try {
            int b = c.getInputStream().read();
            if (b >= 0) {
                fail(what + ": got a byte back (" + b + "): the connection was served");
            }
        } catch (SocketException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("reset"), what + ": " + e);
        }
    }

    /** The DEBUG line that says the connection was accepted for this client, via this peer. */
    private static void accepted(LogCapture log, String host, int port, String kind, Socket c) throws Exception {
        LogLines.await(log, 0, Pattern.compile("accepted from " + LogLines.address(host, port) + " \\("
                + Pattern.quote(kind) + " via " + LogLines.address("127.0.0.1", c.getLocalPort()) + "\\)"));
    }
}
