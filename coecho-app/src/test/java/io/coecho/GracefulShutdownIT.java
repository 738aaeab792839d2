package io.coecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.ServerStats;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graceful shutdown, in-process ({@code Server.close()}) and through the real process with real
 * signals: stop accepting at once, echo what has arrived, close idle connections, exit 0; cut what
 * cannot finish at the shutdown timeout; a second signal exits at once.
 */
class GracefulShutdownIT {

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 40, unit = TimeUnit.SECONDS)
    void closeEchoesWhatArrivedThenClosesEveryConnection(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, c -> c.shutdownTimeout(Duration.ofSeconds(20)));
                Socket idle = server.connect();
                Socket busy = server.connect()) {
            Traffic.echo(idle, "hello\n".getBytes(StandardCharsets.US_ASCII), "idle client, before");
            byte[] payload = Traffic.payload(new Random(7), 512 * 1024);
            Traffic.Sender sender = Traffic.Sender.start(busy, payload, false);
            sender.join();
            // Shut down once the server has read every byte of it, some of it not yet echoed.
            long expected = 6 + payload.length;
            server.awaitStats("all bytes read", s -> s.bytesIn() >= expected);

            server.server().close();

            Traffic.assertEof(idle.getInputStream(), target + ": idle connection");
            assertArrayEquals(payload, Traffic.readFully(busy.getInputStream(), payload.length),
                    target + ": echo of what arrived before the shutdown");
            Traffic.assertEof(busy.getInputStream(), target + ": busy connection after its echo");
            assertThrows(ConnectException.class, () -> new Socket(server.address().getAddress(), server.address().getPort()).close(),
                    target + ": still accepting after close()");
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(15)), target + ": did not terminate");
            ServerStats s = server.server().stats();
            assertEquals(2, s.drained(), target + ": drained, in " + s);
            assertEquals(0, s.cut(), target + ": cut, in " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 40, unit = TimeUnit.SECONDS)
    void cutsAConnectionThatCannotFinishAtTheShutdownTimeout(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, c -> c.shutdownTimeout(Duration.ofMillis(300)));
                Socket stuck = server.connect(s -> s.setReceiveBufferSize(4096))) {
            // It sends and never reads its echo: the server's write stalls and cannot finish.
            Traffic.Sender flood = Traffic.Sender.flood(stuck, 1L << 32);
            // Its echo waits for a peer that never reads: from here on it can only be cut, not drained.
            server.awaitStats("the echo waiting for the stuck peer", s -> s.writesWaiting() == 1);
            server.server().close();
            assertTrue(server.server().awaitTermination(Duration.ofSeconds(15)), target + ": did not terminate");
            assertEquals(1, server.server().stats().cut(), target + ": cut");
            flood.stop();
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sigtermDrainsAndExitsZero(ServerTarget target) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--threads", "2", "--shutdown-timeout", "20s"));
        try (ServerProcess p = ServerProcess.start(0, args);
                Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
            c.setSoTimeout(20_000);
            Traffic.echo(c, "before the signal\n".getBytes(StandardCharsets.US_ASCII), target + ": echo");
            p.terminate();
            p.awaitLine("shutting down", Duration.ofSeconds(20));
            Traffic.assertEof(c.getInputStream(), target + ": idle connection at shutdown");
            assertEquals(0, p.awaitExit(Duration.ofSeconds(30)), target + ": exit code; stderr " + p.stderr());
            assertTrue(p.stderr().stream().anyMatch(l -> l.contains("stopped: 1 connections drained, 0 cut")),
                    target + ": summary line in " + p.stderr());
            assertFalse(p.stderr().stream().anyMatch(l -> l.startsWith("\tat ")), target + ": stack trace in " + p.stderr());
        }
    }

    @org.junit.jupiter.api.Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theLauncherExecsTheServerSoSigtermReachesIt() throws Exception {
        try (ServerProcess p = ServerProcess.startLauncher(List.of("--threads", "1"));
                Socket c = new Socket(p.address().getAddress(), p.address().getPort())) {
            c.setSoTimeout(20_000);
            // The launcher's PID is the JVM's: exec, not a child (else SIGTERM would stop at bash).
            String exe = java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/" + p.pid() + "/exe")).toString();
            assertTrue(exe.endsWith("/java"), "the launcher's process runs " + exe);
            Traffic.echo(c, "via ./coecho\n".getBytes(StandardCharsets.US_ASCII), "echo through the launcher");
            p.terminate();
            Traffic.assertEof(c.getInputStream(), "idle connection at shutdown");
            assertEquals(0, p.awaitExit(Duration.ofSeconds(30)), "exit code; stderr " + p.stderr());
            assertTrue(p.stderr().stream().anyMatch(l -> l.contains("stopped: 1 connections drained, 0 cut")), p.stderr().toString());
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSecondSignalExitsAtOnce(ServerTarget target) throws Exception {
        List<String> args = new ArrayList<>(target.cliArgs());
        args.addAll(List.of("--shutdown-timeout", "5m", "--write-timeout", "0", "--metrics", "127.0.0.1:0"));
        try (ServerProcess p = ServerProcess.start(0, args);
                Socket stuck = new Socket()) {
            stuck.setReceiveBufferSize(4096);
            stuck.connect(p.address(), 10_000);
            // It sends and never reads until the server reports its echo waiting for it: stuck by
            // construction, however much the kernel's buffers take, so the drain cannot finish.
            Traffic.Sender flood = Traffic.Sender.flood(stuck, 1L << 32);
            p.awaitMetric("coecho_writes_waiting", n -> n == 1, Duration.ofSeconds(20));
            p.terminate();
            p.awaitLine("shutting down", Duration.ofSeconds(20));
            p.terminate();
            assertEquals(130, p.awaitExit(Duration.ofSeconds(20)), target + ": exit code; stderr " + p.stderr());
            assertTrue(p.stderr().stream().anyMatch(l -> l.contains("second signal")), target + ": " + p.stderr());
            flood.stop();
        }
    }
}
