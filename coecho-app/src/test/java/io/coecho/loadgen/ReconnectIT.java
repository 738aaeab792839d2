package io.coecho.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.loadgen.ClosingServer.Ending;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code coecho bench --reconnect}: a close by the server between messages (what a draining server
 * does to an idle connection) reopens the connection and the run goes on, every byte still verified;
 * a close in the middle of a message or a reset while an echo is owed stays a failure, as does any
 * close without --reconnect.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReconnectIT {
    private static final int SIZE = 64;

    private static LoadConfig.Builder config(ClosingServer server) {
        return LoadConfig.builder(server.address()).connections(4).size(SIZE).duration(Duration.ofMillis(800));
    }

    @Test
    void aCloseBetweenMessagesReopensAndTheRunGoesOn() throws Exception {
        // The server closes each connection after 2 messages: any run that gets past them shows the
        // reconnect, however slowly this machine lets it go (a count, not a rate, is asserted).
        try (ClosingServer server = ClosingServer.start(Ending.BETWEEN_MESSAGES, SIZE, 2)) {
            Report r = LoadGenerator.run(config(server).reconnect(true).build(), null);
            assertTrue(r.ok(), r.toTable());
            assertTrue(r.reconnects() >= 1, "a connection was closed and reopened: " + r.toTable());
            assertTrue(server.accepted() > 4, "reconnects are new connections: " + server.accepted());
            assertTrue(r.messages() > 2 * 4, "more messages than the first connections could carry: " + r.toTable());
            assertTrue(r.toTable().contains(r.reconnects() + " reopened after the server closed them between messages"),
                    r.toTable());
        }
    }

    @Test
    void withoutReconnectTheSameCloseFailsTheRun() throws Exception {
        try (ClosingServer server = ClosingServer.start(Ending.BETWEEN_MESSAGES, SIZE, 2)) {
            Report r = LoadGenerator.run(config(server).build(), null);
            assertEquals(4, r.failures(Failure.EOF), r.toTable());
            assertEquals(0, r.reconnects());
        }
    }

    @Test
    void aCloseInTheMiddleOfAMessageStaysAnError() throws Exception {
        try (ClosingServer server = ClosingServer.start(Ending.MID_MESSAGE, SIZE, 2)) {
            Report r = LoadGenerator.run(config(server).reconnect(true).build(), null);
            assertEquals(4, r.failures(Failure.EOF), r.toTable());
            assertEquals(0, r.reconnects(), r.toTable());
            assertTrue(r.details().getFirst().contains("in the middle of one"), r.details().toString());
        }
    }

    @Test
    void aResetWhileAnEchoIsOwedStaysAnError() throws Exception {
        try (ClosingServer server = ClosingServer.start(Ending.RESET_OWING, SIZE, 2)) {
            Report r = LoadGenerator.run(config(server).reconnect(true).build(), null);
            assertEquals(4, r.failures(Failure.RESET), r.toTable());
            assertEquals(0, r.reconnects(), r.toTable());
        }
    }

    @Test
    void theCommandLineCountsReconnectsAndRefusesThemForUdp() throws Exception {
        try (ClosingServer server = ClosingServer.start(Ending.BETWEEN_MESSAGES, SIZE, 2)) {
            BenchRun run = BenchRun.of("127.0.0.1", "" + server.address().getPort(), "-c", "2", "-s", "" + SIZE,
                    "-d", "500ms", "-w", "0", "--reconnect", "--json");
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().matches("(?s).*\"reconnects\":[1-9][0-9]*,.*\"ok\":true}\\s*"), run.out());
        }
        BenchRun.assertUsage("reconnecting applies to TCP connections", "--udp", "--reconnect");
    }
}
