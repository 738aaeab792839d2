package io.coecho.examples.forwarder;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One way of a {@link Link}: reads what arrives from one stream and writes it to the other, until
 * EOF, which it passes on by shutting down the other's output (half-close). Back-pressure is the
 * runtime's: {@code write} suspends while the receiver's socket buffer is full, and this direction
 * reads nothing more meanwhile, so a slow receiver slows its sender down to its own pace.
 *
 * <p>Each chunk goes through {@link #forward}, which applies this way's {@link Toxics} (read afresh
 * for every chunk, so a change reaches open links): it may hold, delay, slice, pace or cut. The
 * buffer is this direction's own, not the loop's shared scratch: a chunk held across a suspension (a
 * delay) must not be overwritten by other coroutines meanwhile.
 *
 * <p>Loop thread only: runs in one coroutine. Lifecycle: COPYING (⇄ HELD by a blackhole) → DONE (EOF
 * passed on, or a toxic cut the link) or failed.
 */
final class Direction {
    private final Link link;
    private final TcpStream from;
    private final TcpStream to;
    private final Supplier<Toxics> toxics;
    private final SplittableRandom random;
    private final MemorySegment buffer;
    private long bytes;
    /** Bandwidth toxic: nanoTime before which the next byte may not go. */
    private long paced;
    private boolean resetArmed;
    /** The coroutine while a blackhole holds it, for {@link #wake}; else null. */
    private Coroutine held;

    Direction(Link link, TcpStream from, TcpStream to, Supplier<Toxics> toxics, SplittableRandom random, int bufferSize) {
        this.link = link;
        this.from = from;
        this.to = to;
        this.toxics = toxics;
        this.random = random;
        this.buffer = Arena.ofAuto().allocate(bufferSize);
    }

    /** Copies until from's EOF, then shuts down to's output. Throws when either stream fails. */
    void run() throws IOException {
        for (int n; (n = from.read(buffer)) > 0; ) {
            if (!forward(buffer.asSlice(0, n))) {
                return; // a toxic cut the link
            }
        }
        Toxics t = holdWhileBlackholed();
        if (t.slowClose().isPositive()) {
            Coroutine.sleep(t.slowClose());
        }
        to.shutdownOutput();
    }

    /** Sends one chunk on through the toxics; false when a toxic cut the link instead. */
    private boolean forward(MemorySegment chunk) throws IOException {
        Toxics t = holdWhileBlackholed();
        if (t.resetAfterTime() != null && !resetArmed) {
            resetArmed = true; // counted from the first chunk, as Toxiproxy's reset_peer
            Coroutine.require().loop().schedule(t.resetAfterTime(), link::reset);
        }
        long allowance = t.allowance(bytes);
        if (allowance >= chunk.byteSize()) {
            send(chunk, t);
            if (allowance > chunk.byteSize()) {
                return true;
            }
        } else if (allowance > 0) {
            send(chunk.asSlice(0, allowance), t);
        }
        if (t.cutIsReset()) {
            link.reset();
        } else {
            link.close();
        }
        return false;
    }

    /** Latency, then the chunk in pieces (slicer) at the bandwidth's pace, or whole. */
    private void send(MemorySegment chunk, Toxics t) throws IOException {
        long delay = t.delayNanos(random);
        if (delay > 0) {
            Coroutine.sleep(Duration.ofNanos(delay));
        }
        long size = chunk.byteSize();
        if (t.sliceAverage() == 0 && t.bandwidth() == 0) {
            write(chunk);
            return;
        }
        for (long off = 0; off < size; ) {
            long k = t.sliceAverage() > 0 ? t.sliceSize(random) : size;
            if (t.bandwidth() > 0) {
                k = Math.min(k, Math.max(1, t.bandwidth() / 10)); // at most 100 ms worth at a time
                pace(k, t.bandwidth());
            }
            k = Math.min(k, size - off);
            write(chunk.asSlice(off, k));
            off += k;
            if (off < size && t.sliceAverage() > 0 && t.sliceDelay().isPositive()) {
                Coroutine.sleep(t.sliceDelay());
            }
        }
    }

    /** Waits until k more bytes fit the bandwidth: the pace restarts after a pause, it saves no credit. */
    private void pace(long k, long bytesPerSecond) {
        long now = System.nanoTime();
        if (paced - now < 0) {
            paced = now;
        }
        if (paced - now > 0) {
            Coroutine.sleep(Duration.ofNanos(paced - now));
        }
        paced += k * 1_000_000_000L / bytesPerSecond;
    }

    private void write(MemorySegment piece) throws IOException {
        to.write(piece);
        bytes += piece.byteSize();
    }

    /**
     * Returns this way's toxics once no blackhole is on; until then the coroutine waits (reading
     * nothing), woken by the forwarder when the toxics change or by the link when it closes.
     */
    private Toxics holdWhileBlackholed() throws ClosedChannelException {
        Toxics t;
        while ((t = toxics.get()).blackhole()) {
            if (link.isClosed()) {
                throw new ClosedChannelException();
            }
            held = Coroutine.require();
            link.holding(this, true);
            try {
                Coroutine.suspend();
            } finally {
                held = null;
                link.holding(this, false);
            }
        }
        return t;
    }

    /** Lets a held direction look at its toxics again. Loop thread only. */
    void wake() {
        if (held != null) {
            held.wake();
        }
    }

    @Override
    public String toString() {
        return from + " -> " + to + " after " + bytes + " bytes";
    }
}
