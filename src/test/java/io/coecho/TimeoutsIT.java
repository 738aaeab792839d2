package io.coecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
        try (TestServer server = TestServer.start(target, c -> c.withTimeouts(Duration.ofMillis(1500), Duration.ZERO));
                Socket idle = server.connect();
                Socket chatty = server.connect()) {
            byte[] hi = "hi\n".getBytes(StandardCharsets.US_ASCII);
            Traffic.echo(idle, hi, "idle, first echo");
            long start = System.nanoTime();
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
            assertTrue(waited >= 1400, target + ": closed after " + waited + " ms, before the idle timeout");
            Traffic.echo(chatty, hi, "chatty client after the idle one was closed");
            ServerStats s = server.awaitStats("one idle timeout", st -> st.idleTimeouts() == 1);
            assertEquals(0, s.writeTimeouts(), target + ": " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void peerThatStopsReadingIsCutAfterTheWriteTimeout(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target, c -> c.withTimeouts(Duration.ZERO, Duration.ofMillis(500)));
                Socket stuck = server.connect(s -> s.setReceiveBufferSize(4096));
                Socket good = server.connect()) {
            Traffic.Sender sender = Traffic.Sender.start(stuck, new byte[16 << 20], false);
            // The stuck client's sends fail once the server cuts it (reset or broken pipe).
            Exception failure = assertThrowsWithin(sender);
            assertTrue(failure instanceof IOException, target + ": " + failure);
            server.awaitStats("one write timeout", st -> st.writeTimeouts() == 1);
            Traffic.echo(good, "still served\n".getBytes(StandardCharsets.US_ASCII), target + ": the good client");
        }
    }

    /**
     * Idleness means nothing read and no echo written: a write that waited for a slow reader and then
     * completed is activity, so the clock starts again when the peer finally reads, not at the last
     * read. The client pipelines until the server's last echo write waits for it, stalls longer than
     * the idle timeout (the write timeout applies meanwhile), reads everything, thinks for less than
     * the idle timeout, and sends its next request: the connection must still be there.
     *
     * <p>The durations are the scenario, not waits for an event: STALL exceeds IDLE, the write ends
     * well before WRITE, and the client's pause ends after WRITE (when a watchdog that kept its look
     * for the write deadline would close the connection) but well within IDLE of the write's end.
     */
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aWriteThatWaitedThenCompletedCountsAsActivity(ServerTarget target) throws Exception {
        final long idle = 1000;
        final long write = 1500;
        final long stall = 1200;
        final long resume = write + 200; // the next request, counted from the stall's start
        try (TestServer server = TestServer.start(target, c -> c.withTimeouts(Duration.ofMillis(idle), Duration.ofMillis(write)));
                Socket s = server.connect(c -> c.setReceiveBufferSize(4096))) {
            // One server read's worth at a time, each read and answered (or its answer waiting) before
            // the next: when the echo waits, the server has nothing left to read, so no read can
            // stand in for the write's completion as the last activity.
            byte[] piece = Traffic.payload(new Random(5), 16 * 1024);
            long sent = 0;
            while (true) {
                s.getOutputStream().write(piece);
                long upTo = sent += piece.length;
                assertTrue(sent <= (64 << 20), target + ": the echo never waited");
                ServerStats st = server.awaitStats("the piece read, and echoed or waiting",
                        x -> x.bytesIn() == upTo && (x.bytesOut() == upTo || x.writesWaiting() >= 1));
                if (st.writesWaiting() >= 1) {
                    break;
                }
            }
            long stalled = System.nanoTime();
            sleepUntil(stalled, stall); // the reader stalls
            InputStream in = s.getInputStream();
            for (long i = 0; i < sent; i += piece.length) {
                assertArrayEquals(piece, Traffic.readFully(in, piece.length), target + ": echo at " + i);
            }
            sleepUntil(stalled, resume); // and thinks
            Traffic.echo(s, "next request\n".getBytes(StandardCharsets.US_ASCII), target + ": after the stall");
            ServerStats st = server.server().stats();
            assertEquals(0, st.idleTimeouts(), target + ": " + st);
            assertEquals(0, st.writeTimeouts(), target + ": " + st);
        }
    }

    private static void sleepUntil(long start, long millis) throws InterruptedException {
        long left = start + TimeUnit.MILLISECONDS.toNanos(millis) - System.nanoTime();
        if (left > 0) {
            Thread.sleep(Duration.ofNanos(left));
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
        throw new AssertionError("all 16 MiB were taken by a server that should have cut the connection");
    }
}
