package io.coecho.faults;

import java.util.SplittableRandom;

/**
 * An endless stream of random bytes from a seed, the same however it is cut: a sender takes pieces of
 * any size from one, its reader checks the echo against another with the same seed, and neither
 * keeps what went by. (Not periodic, unlike {@code SeededStream}: a shifted or repeated block cannot
 * pass for the right one.)
 *
 * <p>Not thread-safe: one per sender or reader.
 */
final class SeededBytes {
    private final SplittableRandom random;
    private long word;
    private int left; // bytes of word not handed out yet

    SeededBytes(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** Fills b[off, off+len) with the stream's next len bytes. */
    void next(byte[] b, int off, int len) {
        for (int i = off, end = off + len; i < end; i++) {
            if (left == 0) {
                word = random.nextLong();
                left = 8;
            }
            b[i] = (byte) word;
            word >>>= 8;
            left--;
        }
    }
}
