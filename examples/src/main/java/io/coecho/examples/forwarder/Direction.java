package io.coecho.examples.forwarder;

import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One way of a {@link Link}: reads what arrives from one stream and writes it to the other, until
 * EOF, which it passes on by shutting down the other's output (half-close). Back-pressure is the
 * runtime's: {@code write} suspends while the receiver's socket buffer is full, and this direction
 * reads nothing more meanwhile, so a slow receiver slows its sender down to its own pace.
 *
 * <p>Each chunk goes through {@link #forward}, the one place a fault-injecting proxy would delay,
 * slice or drop what passes. The buffer is this direction's own, not the loop's shared scratch: a
 * chunk held across a suspension (a delay) must not be overwritten by other coroutines meanwhile.
 *
 * <p>Loop thread only: runs in one coroutine. Lifecycle: COPYING → DONE (EOF passed on) or failed.
 */
final class Direction {
    private final TcpStream from;
    private final TcpStream to;
    private final MemorySegment buffer;
    private long bytes;

    Direction(TcpStream from, TcpStream to, int bufferSize) {
        this.from = from;
        this.to = to;
        this.buffer = Arena.ofAuto().allocate(bufferSize);
    }

    /** Copies until from's EOF, then shuts down to's output. Throws when either stream fails. */
    void run() throws IOException {
        for (int n; (n = from.read(buffer)) > 0; ) {
            forward(buffer.asSlice(0, n));
        }
        to.shutdownOutput();
    }

    /** Sends one chunk on, as it is. */
    private void forward(MemorySegment chunk) throws IOException {
        to.write(chunk);
        bytes += chunk.byteSize();
    }

    @Override
    public String toString() {
        return from + " -> " + to + " after " + bytes + " bytes";
    }
}
