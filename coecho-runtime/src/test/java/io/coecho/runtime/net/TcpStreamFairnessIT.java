package io.coecho.runtime.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A coroutine that reads a socket with plenty queued gives the rest of its loop a turn every few
 * reads, whether it reads with {@code read} or takes what is there with {@code readNow} (a server's
 * drain): otherwise a peer that keeps its socket readable holds the loop, its timers included.
 */
@Timeout(30)
class TcpStreamFairnessIT {
    /** Reads in a row the transports allow before yielding (EpollTcpStream, UringTcpStream, NioTcpStream). */
    private static final int BUDGET = 16;
    private static final int QUEUED = 16 * 1024;

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void readNowYieldsItsTurnLikeRead(String name) throws Exception {
        Transport t = TransportChoice.parse(name).open();
        EventLoop loop = t.newLoop("fairness-test", 16 * 1024).start();
        // Listening is allowed from any thread; closing only from the loop (in the task below).
        TcpListener listener = t.listen(loop, new InetSocketAddress("127.0.0.1", 0), new ListenOptions(16, false));
        try (Socket client = new Socket()) {
            client.connect(listener.localAddress(), 10_000);
            client.getOutputStream().write(new byte[QUEUED]); // all queued before the reads begin
            Task<int[]> task = Task.of(loop, "reader", () -> {
                int[] turns = {0};
                boolean[] done = {false};
                // Runs once per turn of the loop that it gets: counts them.
                Coroutine.spawn(loop, "other", () -> {
                    while (!done[0]) {
                        turns[0]++;
                        Coroutine.yieldNow();
                    }
                });
                try (listener; TcpStream s = listener.accept()) {
                    MemorySegment buf = Arena.ofAuto().allocate(64); // many small reads
                    int total = s.read(buf);
                    int longestRun = 0;
                    int reads = 0;
                    for (int run = 0, seen = turns[0]; total < QUEUED; reads++) {
                        int n = s.readNow(buf);
                        if (n == 0) {
                            n = s.read(buf); // not all there yet: wait (the other coroutine runs meanwhile)
                        }
                        assertTrue(n > 0, "EOF after " + total + " bytes");
                        total += n;
                        run = turns[0] == seen ? run + 1 : 1;
                        seen = turns[0];
                        longestRun = Math.max(longestRun, run);
                    }
                    return new int[] {reads, longestRun};
                } finally {
                    done[0] = true;
                }
            });
            int[] r = task.toFuture().get(20, TimeUnit.SECONDS);
            assertTrue(r[0] >= 8 * BUDGET, name + ": only " + r[0] + " readNow calls");
            // The budget's reads, then the one that follows the yield.
            assertTrue(r[1] <= BUDGET + 1, name + ": " + r[1] + " reads in a row while the loop's other coroutine waited");
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)));
        }
    }
}
