package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Timeout;

/**
 * Out of file descriptors: the server runs with a low open-files limit and gets more clients than it
 * can hold. accept fails with EMFILE; the server must say so once, not spin, keep serving the clients
 * it has, and recover by itself when descriptors free up (Netty 4.2's acceptor dies here on JDK 25).
 */
class FdExhaustionIT {
    private static final int OPEN_FILES = 128;
    private static final int CLIENTS = 200;

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void acceptorSurvivesEmfileAndRecoversWhenDescriptorsFree(ServerTarget target) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--threads", "1", "--backlog", "1024"));
        List<Socket> clients = new ArrayList<>();
        try (ServerProcess p = ServerProcess.start(OPEN_FILES, args)) {
            for (int i = 0; i < CLIENTS; i++) {
                Socket s = new Socket();
                s.setSoTimeout(30_000);
                s.connect(p.address(), 10_000); // the kernel's backlog takes them all
                s.getOutputStream().write(("client " + i + "\n").getBytes(StandardCharsets.US_ASCII));
                clients.add(s);
            }
            p.awaitLine("accept failed (EMFILE)", Duration.ofSeconds(30));
            // Free descriptors: close clients from the front; each close lets one waiting client in.
            // Every client must get its echo in the end, and closing its socket then frees the next slot.
            for (int i = 0; i < CLIENTS; i++) {
                Socket s = clients.get(i);
                String expected = "client " + i + "\n";
                String got = new String(Traffic.readFully(s.getInputStream(), expected.length()), StandardCharsets.US_ASCII);
                assertEquals(expected, got, target + ": client " + i);
                s.close();
            }
            p.terminate();
            assertEquals(0, p.awaitExit(Duration.ofSeconds(30)), target + ": exit code; stderr " + p.stderr());
            List<String> log = p.stderr();
            assertEquals(1, log.stream().filter(l -> l.contains("accept failed")).count(), target + ": say it once: " + log);
            assertTrue(log.stream().anyMatch(l -> l.contains("accepting again")), target + ": recovery logged: " + log);
            assertFalse(log.stream().anyMatch(l -> l.startsWith("\tat ") || l.contains("Exception")),
                    target + ": no stack trace: " + log);
        } finally {
            for (Socket s : clients) {
                s.close();
            }
        }
    }
}
