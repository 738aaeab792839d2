package io.coecho.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.Server;
import io.coecho.server.ServerConfig;
import io.coecho.server.udp.UdpConfig;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code coecho bench --udp} against our server with UDP limits off (every datagram back and
 * verified), with its default per-source limit (loss counted, the run fails above --max-loss),
 * against a server that corrupts a byte (mismatch, exit 1), and with bad options (exit 2).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UdpLoadIT {
    private Server server;

    @AfterEach
    void stopServer() throws InterruptedException {
        if (server != null) {
            server.closeNow();
            assertTrue(server.awaitTermination(Duration.ofSeconds(5)), "server stopped");
        }
    }

    private InetSocketAddress startServer(String host, UdpConfig udp) throws IOException {
        server = Server.start(ServerConfig.builder().address(new InetSocketAddress(InetAddress.getByName(host), 0))
                .udp(udp).build());
        return server.address();
    }

    private static UdpConfig unlimited() {
        return UdpConfig.builder().enabled(true).sourceRate(0).globalRate(0).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void withLimitsOffEveryDatagramComesBackVerified(String transport) throws Exception {
        InetSocketAddress a = startServer("127.0.0.1", unlimited());
        BenchRun run = BenchRun.of("--udp", "--port", "" + a.getPort(), "--transport", transport, "-c", "4", "-P", "4",
                "-t", "2", "-d", "500ms", "-w", "100ms", "--json");
        assertEquals(0, run.exit(), run.err() + run.out());
        assertTrue(run.out().contains("\"errors\":{\"mismatch\":0,\"connect\":0,\"reset\":0,\"eof\":0,\"silent\":0}"), run.out());
        assertTrue(field(run.out(), "messages") > 0, run.out());
        assertTrue(field(run.out(), "sent") > 0, run.out());
        assertEquals(field(run.out(), "sent"), field(run.out(), "received"), run.out());
        assertEquals(0, field(run.out(), "lost"), run.out());
        assertEquals(0, field(run.out(), "duplicates") + field(run.out(), "late") + field(run.out(), "unexpected"), run.out());
        assertTrue(run.out().strip().endsWith("\"ok\":true}"), run.out());
    }

    @Test
    void openLoopOverIpv6WithOneByteDatagrams() throws Exception {
        InetSocketAddress a = startServer("::1", unlimited());
        LoadConfig c = LoadConfig.builder(a).size(1).pipeline(8).rate(400).duration(Duration.ofSeconds(1))
                .udp(true).udpTimeout(Duration.ofSeconds(1)).maxLoss(0).build();
        Report r = LoadGenerator.run(c, null);
        assertTrue(r.ok(), r.toTable());
        assertEquals(r.udp(UdpCount.SENT), r.udp(UdpCount.RECEIVED), r.toTable());
        // 400 datagrams/s for 1 s: never more than the schedule (give or take the window's edges). How
        // many of them complete inside the window depends on how much CPU this machine gives the run
        // (176 of 400 at load 30), so only that some did is asserted below it.
        assertTrue(r.messages() >= 1 && r.messages() <= 410, r.toTable());
        assertTrue(r.p50() > 0 && r.p50() <= r.p99() && r.p99() <= r.max(), r.toTable());
    }

    @Test
    void theServersDefaultRateLimitShowsAsLossAndFailsTheRun() throws Exception {
        InetSocketAddress a = startServer("127.0.0.1", UdpConfig.builder().enabled(true).build()); // 100 datagrams/s per source
        BenchRun run = BenchRun.of("--udp", "--port", "" + a.getPort(), "-c", "4", "-P", "16", "-d", "500ms", "-w", "0",
                "--udp-timeout", "100ms", "--max-loss", "1", "--json");
        assertEquals(1, run.exit(), run.err() + run.out());
        long sent = field(run.out(), "sent");
        long lost = field(run.out(), "lost");
        assertTrue(lost > 0 && field(run.out(), "received") > 0, run.out());
        assertEquals(sent, field(run.out(), "received") + lost, "every datagram received or lost: " + run.out());
        assertTrue(run.out().contains("\"mismatch\":0") && run.out().contains("\"ok\":false"), run.out());
        assertTrue(run.err().contains("of datagrams lost (more than 1%)"), run.err());

        BenchRun reportOnly = BenchRun.of("--udp", "--port", "" + a.getPort(), "-c", "2", "-P", "8", "-d", "300ms", "-w", "0",
                "--udp-timeout", "100ms", "--max-loss", "100");
        assertEquals(0, reportOnly.exit(), reportOnly.err() + reportOnly.out());
        assertTrue(reportOnly.out().contains("datagrams") && reportOnly.out().contains("lost"), reportOnly.out());
    }

    @Test
    void aCorruptedByteIsAMismatch() throws Exception {
        try (CorruptingUdpServer bad = new CorruptingUdpServer()) {
            Report r = LoadGenerator.run(LoadConfig.builder(bad.address()).udp(true).udpTimeout(Duration.ofSeconds(10))
                    .maxLoss(1).build(), null);
            assertEquals(4, r.failures(Failure.MISMATCH), r.toTable());
            assertTrue(r.details().getFirst().contains("wrong byte " + CorruptingUdpServer.CORRUPT_AT), r.details().toString());

            BenchRun run = BenchRun.of("--udp", "127.0.0.1", "" + bad.address().getPort(), "-c", "2", "-d", "300ms", "-w", "0", "--udp-timeout", "10s");
            assertEquals(1, run.exit(), run.err() + run.out());
            assertTrue(run.err().contains("2 mismatch"), run.err());
        }
    }

    @Test
    void badOptionsExitTwo() {
        BenchRun.assertUsage("--size must be at most 65507 B with --udp", "--udp", "--size", "70000");
        BenchRun.assertUsage("pipeline must be between 1", "--udp", "--pipeline", "0");
        BenchRun.assertUsage("pipeline must be at most 128", "--udp", "--size", "1", "--pipeline", "129");
        BenchRun.assertUsage("maximum loss must be between 0 and 100", "--udp", "--max-loss", "101");
    }


    private static long field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return Long.parseLong(m.group(1));
    }


    /** A UDP echo server on a blocking JDK socket and one thread that flips byte CORRUPT_AT of every datagram. */
    private static final class CorruptingUdpServer implements AutoCloseable {
        static final int CORRUPT_AT = 20;
        private final DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        private final Thread thread = Thread.ofPlatform().daemon().name("corrupting-udp").start(this::serve);

        CorruptingUdpServer() throws IOException {}

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        private void serve() {
            DatagramPacket p = new DatagramPacket(new byte[65_536], 65_536);
            try {
                while (true) {
                    p.setLength(65_536);
                    socket.receive(p);
                    if (p.getLength() > CORRUPT_AT) {
                        p.getData()[CORRUPT_AT] ^= 0x5A;
                    }
                    socket.send(p);
                }
            } catch (IOException closed) {
                // close() closed the socket: the test is over
            }
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(5_000);
        }
    }
}
