package io.coecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.coecho.runtime.LogCapture;
import io.coecho.server.proxy.CidrList;
import io.coecho.server.proxy.ProxyConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A real balancer in front: Debian's HAProxy (mode tcp) with {@code send-proxy-v2}, and with
 * {@code send-proxy} (v1), before coecho with --proxy-protocol, on every transport and engine. A
 * client connects to HAProxy from 127.0.0.2 (HAProxy reaches coecho from 127.0.0.1): its bytes come
 * back exactly, and the address coecho logs for the connection is the client's, port and all, via
 * HAProxy's. HAProxy's health checks carry a header too (LOCAL in v2) and are served.
 *
 * <p>Needs haproxy, which .ci/run installs: without it the test fails, it is never skipped.
 */
class HaproxyIT {
    private static final String CLIENT_HOST = "127.0.0.2";

    static Stream<Object[]> targetsAndVersions() {
        return ServerTarget.selected().stream()
                .flatMap(t -> Stream.of(new Object[] {t, "send-proxy-v2"}, new Object[] {t, "send-proxy"}));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("targetsAndVersions")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void theClientsAddressReachesCoechoThroughHaproxy(ServerTarget target, String sendProxy, @TempDir Path dir)
            throws Exception {
        byte[] payload = Traffic.payload(new Random(11), 256 * 1024);
        String version = sendProxy.equals("send-proxy-v2") ? "PROXY v2" : "PROXY v1";
        try (LogCapture log = LogCapture.start(Level.FINE);
                TestServer server = TestServer.start(target, c -> c.proxy(ProxyConfig.from(CidrList.LOOPBACK)));
                Haproxy haproxy = Haproxy.start(dir, server.address().getPort(), sendProxy);
                Socket client = haproxy.connectFrom(CLIENT_HOST)) {
            byte[] back = echoAll(client, payload);
            assertArrayEquals(payload, back, target + " " + sendProxy + ": every byte through HAProxy, no header");
            // The client's address and port, through HAProxy's connection from 127.0.0.1.
            LogLines.await(log, 0, Pattern.compile("accepted from " + LogLines.address(CLIENT_HOST, client.getLocalPort())
                    + " \\(" + version + " via " + LogLines.host("127.0.0.1") + ":\\d+\\)"));
            // HAProxy's health checks carry a header too, naming HAProxy's own end of the connection
            // (v2: LOCAL, the connection's own addresses; v1: a TCP4 line with them), and pass: coecho
            // echoes the line they send.
            String check = version.equals("PROXY v2") ? "PROXY v2 LOCAL" : "PROXY v1";
            LogLines.await(log, 0, Pattern.compile("accepted from " + LogLines.host("127.0.0.1") + ":(\\d+) \\("
                    + check + " via " + LogLines.host("127.0.0.1") + ":\\1\\)"));
            haproxy.awaitLogLine("Health check for server coecho/s1 succeeded", Duration.ofSeconds(20));
        }
    }

    /** Sends payload on another thread, half-closes, reads everything back until EOF. */
    private static byte[] echoAll(Socket c, byte[] payload) throws Exception {
        Traffic.Sender sender = Traffic.Sender.start(c, payload, true);
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        InputStream in = c.getInputStream();
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) >= 0; ) {
            back.write(buf, 0, n);
        }
        sender.join();
        return back.toByteArray();
    }

    /**
     * HAProxy in the foreground on an ephemeral loopback port, one backend server (coecho) with a
     * PROXY header on every connection and on its health checks (send a line, expect it back).
     */
    static final class Haproxy implements AutoCloseable {
        private final Process process;
        private final Path log;
        private final int port;

        private Haproxy(Process process, Path log, int port) {
            this.process = process;
            this.log = log;
            this.port = port;
        }

        /**
         * Starts HAProxy in front of 127.0.0.1:backendPort. The port comes from the kernel (bind port
         * 0, close, hand it to HAProxy); in the rare case that another process takes it meanwhile,
         * HAProxy fails to bind and exits, and another port is tried.
         */
        static Haproxy start(Path dir, int backendPort, String sendProxy) throws Exception {
            for (int attempt = 1; ; attempt++) {
                int port;
                try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                    port = probe.getLocalPort();
                }
                Path config = dir.resolve("haproxy-" + attempt + ".cfg");
                Files.writeString(config, """
                        global
                          log stderr format raw local0 info
                        defaults
                          mode tcp
                          log global
                          option tcplog
                          option log-health-checks
                          timeout connect 5s
                          timeout client 30s
                          timeout server 30s
                        frontend echo
                          bind 127.0.0.1:%d
                          default_backend coecho
                        backend coecho
                          option tcp-check
                          tcp-check connect %s
                          tcp-check send "coecho-health-check\\n"
                          tcp-check expect string coecho-health-check
                          server s1 127.0.0.1:%d %s check inter 200ms rise 1 fall 3
                        """.formatted(port, "send-proxy", backendPort, sendProxy));
                Path log = dir.resolve("haproxy-" + attempt + ".log");
                Process p = new ProcessBuilder("haproxy", "-f", config.toString(), "-db")
                        .redirectErrorStream(true).redirectOutput(log.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                Haproxy h = new Haproxy(p, log, port);
                if (h.awaitListening()) {
                    return h;
                }
                h.close();
                if (attempt == 5) {
                    throw new AssertionError("HAProxy would not start: " + Files.readString(log));
                }
            }
        }

        /** Polls the frontend until it accepts (true) or HAProxy has exited (false: its port was taken). */
        private boolean awaitListening() throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() - deadline < 0) {
                if (!process.isAlive()) {
                    return false;
                }
                // From 127.0.0.3: this probe is a client session too, and must not pass for a check.
                try (Socket s = new Socket()) {
                    s.bind(new InetSocketAddress("127.0.0.3", 0));
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    return true;
                } catch (ConnectException | SocketTimeoutException e) {
                    // Not listening yet; or, on a starved machine, this thread did not run again before
                    // its own connect timeout: ask again until the deadline.
                    Thread.sleep(10); // polling a condition with a deadline, not waiting for a guessed time
                }
            }
            throw new AssertionError("HAProxy not listening within 30 s: " + Files.readString(log));
        }

        /** A client connection to the frontend from host (a loopback address other than HAProxy's own). */
        Socket connectFrom(String host) throws IOException {
            Socket s = new Socket();
            s.setSoTimeout((int) TestServer.READ_TIMEOUT.toMillis());
            s.bind(new InetSocketAddress(host, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            return s;
        }

        /** Waits for a line of HAProxy's log matching regex. */
        void awaitLogLine(String regex, Duration within) throws Exception {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + within.toNanos();
            while (System.nanoTime() - deadline < 0) {
                if (Files.readAllLines(log, StandardCharsets.UTF_8).stream().anyMatch(l -> p.matcher(l).find())) {
                    return;
                }
                Thread.sleep(10); // polling a condition with a deadline, not waiting for a guessed time
            }
            throw new AssertionError("HAProxy never logged /" + regex + "/: " + Files.readString(log));
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
