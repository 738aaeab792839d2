package io.coecho.loadgen;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * The bytes one connection sends: an endless, deterministic stream that the echo must return
 * unchanged, byte for byte and in order. Every connection reads the same random pattern, but from
 * its own starting point (seeded by its number), so data crossed between connections, dropped,
 * duplicated or reordered shows up as a mismatch.
 *
 * <pre>
 *   PATTERN: | p[0] ... p[PERIOD-1] | p[0] ... p[PERIOD-1] |   (two copies, back to back)
 *   stream byte i of connection c  =  p[(phase(c) + i) mod PERIOD]
 * </pre>
 *
 * The second copy makes any run of up to PERIOD stream bytes one contiguous slice, so sending is a
 * slice and checking is one {@link MemorySegment#mismatch} per slice, never a per-byte Java loop.
 * PERIOD is prime, so message boundaries fall at ever different points of the pattern.
 *
 * <p>Immutable; the pattern is shared read-only by every loop thread.
 */
final class Payload {
    /** Pattern length: the largest prime below 2^16, so the pattern stays in a core's cache. */
    static final int PERIOD = 65_521;
    private static final MemorySegment PATTERN = pattern();

    private final long phase;

    private Payload(long phase) {
        this.phase = phase;
    }

    /** The stream of connection number id. */
    static Payload forConnection(int id) {
        return new Payload((id * 40_503L) % PERIOD);
    }

    /**
     * The stream bytes from offset on, as much of len as one slice holds (at most {@link #PERIOD}):
     * callers loop until they have written len bytes. The slice is read-only shared memory that
     * lives as long as the class, so a stream may keep it while a write waits.
     */
    MemorySegment slice(long offset, long len) {
        int pos = position(offset);
        return PATTERN.asSlice(pos, Math.min(len, PERIOD));
    }

    /**
     * Compares received[0, n) with the stream bytes at offset. Returns -1 when they are equal, else
     * the stream offset of the first wrong byte.
     */
    long mismatch(MemorySegment received, long n, long offset) {
        long done = 0;
        while (done < n) {
            int pos = position(offset + done);
            long chunk = Math.min(n - done, PERIOD);
            long m = MemorySegment.mismatch(received, done, done + chunk, PATTERN, pos, pos + chunk);
            if (m >= 0) {
                return offset + done + m;
            }
            done += chunk;
        }
        return -1;
    }

    private int position(long offset) {
        return (int) ((phase + offset) % PERIOD);
    }

    private static MemorySegment pattern() {
        byte[] p = new byte[PERIOD];
        new SplittableRandom(0xC0EC40L).nextBytes(p);
        MemorySegment s = Arena.global().allocate(2L * PERIOD, 64);
        MemorySegment.copy(MemorySegment.ofArray(p), 0, s, 0, PERIOD);
        MemorySegment.copy(MemorySegment.ofArray(p), 0, s, PERIOD, PERIOD);
        return s.asReadOnly();
    }
}
