package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.server.ServerStats;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two timeouts an operator relies on: an idle connection is closed after --idle-timeout, and a
 * peer that stops reading its echo is cut after --write-timeout, so it cannot pin memory forever;
 * a connection that keeps talking is left alone, and others are served meanwhile.
 */
class TimeoutsIT {

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void idleConnectionIsClosedAndABusyOneIsNot(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, c -> c.idleTimeout(Duration.ofMillis(1500)));
                Socket idle = server.connect();
                Socket chatty = server.connect()) {
            byte[] hi = "hi\n".getBytes(StandardCharsets.US_ASCII);
            // Before the idle client's last traffic, so the server's idle clock starts after ours: the
            // close cannot come sooner than the timeout after this, however the threads are scheduled.
            long start = System.nanoTime();
            Traffic.echo(idle, hi, "idle, first echo");
            // The chatty client talks every 100 ms until the idle one has been closed: it must survive.
            InputStream idleIn = idle.getInputStream();
            idle.setSoTimeout(100);
            int eof = 0;
            while (eof == 0) {
                Traffic.echo(chatty, hi, "chatty client");
                eof = readOrTimeout(idleIn);
            }
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(-1, eof, target + ": idle connection should end with EOF");
            assertTrue(waited >= 1500, target + ": closed after " + waited + " ms, before the idle timeout");
            Traffic.echo(chatty, hi, "chatty client after the idle one was closed");
            ServerStats s = server.awaitStats("one idle timeout", st -> st.idleTimeouts() == 1);
            assertEquals(0, s.writeTimeouts(), target + ": " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void peerThatStopsReadingIsCutAfterTheWriteTimeout(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, c -> c.writeTimeout(Duration.ofMillis(500)));
                Socket stuck = server.connect(s -> s.setReceiveBufferSize(4096));
                Socket good = server.connect()) {
            // It sends without reading until its sends fail: however much the buffers take, the server's
            // write waits at some point, and the write timeout must cut it.
            Traffic.Sender sender = Traffic.Sender.flood(stuck, 1L << 32);
            // The stuck client's sends fail once the server cuts it (reset or broken pipe).
            Exception failure = assertThrowsWithin(sender);
            assertTrue(failure instanceof IOException, target + ": " + failure);
            server.awaitStats("one write timeout", st -> st.writeTimeouts() == 1);
            Traffic.echo(good, "still served\n".getBytes(StandardCharsets.US_ASCII), target + ": the good client");
        }
    }

    /**
     * Idleness means nothing read and no echo written: an echo write that waited for a slow reader
     * and then completed is activity, so the idle clock starts when it completes. The client
     * pipelines until the server's echo waits for it, stalls longer than the idle timeout (the long
     * write timeout applies meanwhile), reads everything and at once sends its next request: the
     * connection must still be there. Then it falls silent: it must be closed for idleness, about the
     * idle timeout later, not at the write deadline that the write's wait brought up.
     */
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void anEchoWriteThatWaitedCountsAsActivity(ServerTarget target) throws Exception {
        Duration idle = Duration.ofMillis(1500);
        long seed = new Random().nextLong();
        SeededStream stream = new SeededStream(seed);
        String what = target + ", seed " + seed;
        try (TestServer server = TestServer.start(target, c -> c.idleTimeout(idle).writeTimeout(Duration.ofSeconds(30)));
                Socket s = server.connect(c -> c.setReceiveBufferSize(4096))) {
            SeededSender sender = SeededSender.start(s, stream);
            server.awaitStats("the echo waiting for the reader", st -> st.writesWaiting() >= 1);
            sender.stop();
            Thread.sleep(idle.plusMillis(300)); // the scenario: a reader stalled longer than the idle timeout

            InputStream in = s.getInputStream();
            byte[] chunk = new byte[64 * 1024];
            long read = 0;
            while (!sender.done() || read < sender.sent()) {
                int n = stream.readChecked(in, chunk, read, what);
                assertTrue(n > 0, what + ": closed after " + read + " bytes of echo (the client sent " + sender.sent()
                        + (sender.done() ? "" : " and more") + "), " + server.server().stats());
                read += n;
            }
            Traffic.echo(s, "next request\n".getBytes(StandardCharsets.US_ASCII), what + ": right after the stall");

            // Silence now. Before, the watchdog's next look was at the write deadline, 30 s away.
            s.setSoTimeout(10_000);
            assertEquals(-1, readOrTimeout(in), what + ": not closed for idleness within 10 s");
            ServerStats st = server.awaitStats("one idle timeout", x -> x.idleTimeouts() == 1);
            assertEquals(0, st.writeTimeouts(), what + ": " + st);
        }
    }

    /** The next byte, -1 at EOF, or 0 when nothing came within the socket's timeout. */
    private static int readOrTimeout(InputStream in) throws IOException {
        try {
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("unexpected byte from an idle connection: " + b);
            }
            return -1;
        } catch (java.net.SocketTimeoutException e) {
            return 0;
        } catch (java.net.SocketException e) {
            return -1; // a reset is as closed as an EOF for an idle client
        }
    }

    private static Exception assertThrowsWithin(Traffic.Sender sender) {
        try {
            sender.join();
        } catch (Exception e) {
            return e;
        }
        throw new AssertionError("4 GiB were taken by a server that should have cut the connection");
    }
}
