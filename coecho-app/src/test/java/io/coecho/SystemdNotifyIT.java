package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.runtime.linux.SystemdNotifier;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd notification protocol (Type=notify), against a datagram socket the test binds where
 * systemd would: READY=1 once every listener is open, sent by the server's own process (the PID
 * systemd watches); STOPPING=1 when SIGTERM starts the drain; nothing without NOTIFY_SOCKET; for a
 * socket that cannot be reached, one WARNING line and a server that serves on.
 */
class SystemdNotifyIT {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aNotificationReachesASocketFileWithTheSendersPid() {
        try (NotifySocket manager = NotifySocket.bind(dir.resolve("notify").toString())) {
            assertTrue(SystemdNotifier.create(manager.address()).notify("READY=1\nSTATUS=testing"));
            NotifySocket.Message m = manager.receive(WAIT);
            assertEquals("READY=1\nSTATUS=testing", m.text());
            assertEquals(ProcessHandle.current().pid(), m.pid(), "the sender, as the kernel reports it");
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void anAbstractSocketNameStartsWithAnAt() {
        String name = "@coecho-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifySocket manager = NotifySocket.bind(name)) {
            assertTrue(SystemdNotifier.create(name).notify("READY=1"));
            assertEquals("READY=1", manager.receive(WAIT).text());
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void withoutNotifySocketNothingIsSentAndNothingLogged() {
        try (LogCapture log = LogCapture.start(Level.ALL)) {
            for (String unset : new String[] {null, ""}) {
                SystemdNotifier n = SystemdNotifier.create(unset);
                assertFalse(n.enabled());
                assertFalse(n.notify("READY=1"));
            }
            assertEquals(List.of(), log.lines());
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void aSocketThatCannotBeReachedGivesOneWarningLine() throws Exception {
        Path notASocket = Files.writeString(dir.resolve("plain-file"), "");
        String tooLong = "/" + "x".repeat(120);
        Map<String, String> cases = Map.of(
                dir.resolve("missing/notify").toString(), "no such socket",
                notASocket.toString(), "ECONNREFUSED",
                "relative/notify", "not an AF_UNIX socket path",
                "vsock:2:1234", "not an AF_UNIX socket path",
                tooLong, "longer than a socket address can be");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            try (LogCapture log = LogCapture.start(Level.ALL)) {
                SystemdNotifier n = SystemdNotifier.create(c.getKey());
                assertFalse(n.notify("READY=1"), c.getKey());
                assertFalse(n.notify("STOPPING=1"), c.getKey());
                List<String> lines = log.lines();
                assertEquals(1, lines.size(), "one line for " + c.getKey() + ": " + lines);
                String line = lines.getFirst();
                assertTrue(line.startsWith("WARNING") && line.contains("NOTIFY_SOCKET=" + c.getKey())
                        && line.contains(c.getValue()) && line.contains("serving on"), line);
            }
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theServerIsReadyOnceEveryListenerIsOpenAndSaysWhenItStops() throws Exception {
        try (NotifySocket manager = NotifySocket.bind(dir.resolve("notify").toString());
                ServerProcess p = ServerProcess.start(Map.of("NOTIFY_SOCKET", manager.address()),
                        List.of("--udp", "--threads", "2", "--shutdown-timeout", "7s"))) {
            NotifySocket.Message ready = manager.receive(WAIT);
            assertEquals("1", ready.get("READY"), ready.text());
            assertEquals(p.pid(), ready.pid(), "READY=1 must come from the main process (NotifyAccess=main)");
            assertEquals("listening on 127.0.0.1:" + p.address().getPort(), ready.get("STATUS"));
            // What a unit ordered after this one would do once told it is ready: use both listeners.
            try (Socket s = new Socket(p.address().getAddress(), p.address().getPort())) {
                s.setSoTimeout(10_000);
                Traffic.echo(s, "ready?\n".getBytes(StandardCharsets.US_ASCII), "tcp after READY=1");
            }
            try (DatagramSocket u = new DatagramSocket(0, p.address().getAddress())) {
                u.setSoTimeout(10_000);
                byte[] out = "ready?".getBytes(StandardCharsets.US_ASCII);
                u.send(new DatagramPacket(out, out.length, p.address()));
                DatagramPacket back = new DatagramPacket(new byte[64], 64);
                u.receive(back);
                assertEquals("ready?", new String(back.getData(), 0, back.getLength(), StandardCharsets.US_ASCII));
            }

            p.terminate();
            NotifySocket.Message stopping = manager.receive(WAIT);
            assertEquals("1", stopping.get("STOPPING"), stopping.text());
            assertEquals(p.pid(), stopping.pid());
            assertEquals(String.valueOf(12_000_000), stopping.get("EXTEND_TIMEOUT_USEC"),
                    "the stop timeout stretched to the shutdown timeout plus 5 s");
            assertEquals(0, p.awaitExit(WAIT), "a clean drain exits 0: " + p.stderr());
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aMissingNotifySocketGivesOneWarningAndTheServerServesAndStopsCleanly() throws Exception {
        String missing = dir.resolve("no-such-dir/notify").toString();
        try (ServerProcess p = ServerProcess.start(Map.of("NOTIFY_SOCKET", missing), List.of("--threads", "1"))) {
            String warning = p.awaitLine("NOTIFY_SOCKET", WAIT);
            assertTrue(warning.contains("WARNING") && warning.contains(missing) && warning.contains("no such socket"), warning);
            try (Socket s = new Socket(p.address().getAddress(), p.address().getPort())) {
                s.setSoTimeout(10_000);
                Traffic.echo(s, "still serving\n".getBytes(StandardCharsets.US_ASCII), "tcp after the warning");
            }
            p.terminate();
            assertEquals(0, p.awaitExit(WAIT));
            List<String> err = p.stderr();
            assertEquals(1, err.stream().filter(l -> l.contains("NOTIFY_SOCKET")).count(), "one line, not one per notification: " + err);
            assertFalse(String.join("\n", err).contains("\tat "), "no stack trace: " + err);
            assertNotNull(err.stream().filter(l -> l.contains("stopped:")).findFirst().orElse(null), err.toString());
        }
    }
}
