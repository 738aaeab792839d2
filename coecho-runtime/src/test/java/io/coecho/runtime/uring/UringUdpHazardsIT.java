package io.coecho.runtime.uring;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.coro.Timeouts;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The io_uring UDP socket's own hazards (issue 14), beside {@link UringHazardsIT}'s for TCP: a socket
 * closed while its recvmsg is in the kernel keeps its fd until the cancel's completion, and the next
 * socket on the same fd number sees only its own completions; a receive given up while its recvmsg is
 * in flight loses no datagram, and the kernel never writes into the buffer that receive was given.
 * Loopback, port 0; no WARNING may be logged (a stray completion, ops left in flight at the loop's end).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UringUdpHazardsIT {
    private static final InetSocketAddress ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final UringTransport transport = new UringTransport();

    @Test
    void closingWithARecvmsgInFlightFreesTheFdOnlyAfterItsCompletionAndTheNumbersNextOwnerSeesNoStray()
            throws Exception {
        runOnLoop(loop -> {
            UringUdpSocket first = bind(loop);
            CompletableFuture<Throwable> readerEnded = new CompletableFuture<>();
            Coroutine.spawn(loop, "reader", () -> {
                try {
                    first.receive(loop.scratch(), new PeerAddress());
                    readerEnded.complete(null);
                } catch (Throwable t) {
                    readerEnded.complete(t);
                }
            });
            Coroutine.sleep(Duration.ofMillis(5)); // a loop turn: the reader's recvmsg is in the kernel
            first.close();
            assertFalse(first.fdClosed(), "the fd stays ours while the kernel may still act on it");
            while (!first.fdClosed()) {
                Coroutine.yieldNow(); // the cancel's completion comes in a later turn
            }
            assertInstanceOf(ClosedChannelException.class, readerEnded.getNow(null));
            // The lowest free number: the one just closed. The new socket must see its own datagrams only.
            try (UringUdpSocket second = bind(loop); UdpSocket sender = bind(loop)) {
                assertEquals(first.fd, second.fd, "the new socket took the closed one's fd number");
                byte[] sent = {1, 2, 3};
                sender.send(MemorySegment.ofArray(sent), PeerAddress.of(second.localAddress()));
                PeerAddress from = new PeerAddress();
                MemorySegment in = Arena.ofAuto().allocate(16);
                int n = second.receive(in, from);
                assertArrayEquals(sent, in.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                assertEquals(sender.localAddress().getPort(), from.port());
            }
        });
    }

    @Test
    void aReceiveGivenUpWhileItsRecvmsgIsInFlightLosesNoDatagramAndItsBufferIsLeftAlone() throws Exception {
        runOnLoop(loop -> {
            try (UdpSocket receiver = bind(loop); UdpSocket sender = bind(loop)) {
                MemorySegment givenUp = Arena.ofAuto().allocate(64);
                assertThrows(TimeoutException.class, () -> Timeouts.withTimeout(Duration.ofMillis(20),
                        () -> receiver.receive(givenUp, new PeerAddress())));
                givenUp.fill((byte) 0x55); // the caller reuses its buffer: the kernel must not write into it
                byte[] sent = {7, 8, 9, 10};
                sender.send(MemorySegment.ofArray(sent), PeerAddress.of(receiver.localAddress()));
                PeerAddress from = new PeerAddress();
                MemorySegment in = Arena.ofAuto().allocate(16);
                int n = receiver.receive(in, from); // the recvmsg still in flight took the datagram
                assertArrayEquals(sent, in.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
                assertEquals(sender.localAddress().getPort(), from.port());
                for (int i = 0; i < givenUp.byteSize(); i++) {
                    assertEquals((byte) 0x55, givenUp.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " of the given-up buffer");
                }
            }
        });
    }

    /** A body run in a coroutine of a fresh io_uring loop, stopped afterwards; nothing logged at WARNING. */
    private void runOnLoop(LoopBody body) throws Exception {
        try (LogCapture log = LogCapture.start(Level.WARNING)) {
            EventLoop loop = transport.newLoop("uring-udp-hazards", 4096).start();
            try {
                Task.of(loop, "test", () -> {
                    body.run(loop);
                    return null;
                }).start().toFuture().get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw (e.getCause() instanceof Exception ex) ? ex : e;
            } finally {
                loop.stop();
                assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
            }
            assertEquals(List.of(), log.lines(), "no stray completion, nothing in flight at the loop's end");
        }
    }

    private UringUdpSocket bind(EventLoop loop) throws Exception {
        return (UringUdpSocket) transport.bindUdp(loop, ANY, false);
    }

    /** The test's body, on the loop. */
    private interface LoopBody {
        void run(EventLoop loop) throws Exception;
    }
}
