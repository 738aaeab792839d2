package io.coecho;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;

/**
 * An endless byte stream from a seed, which a client can send in any pieces and check the echo of at
 * any position, without keeping what it sent: for streams of unknown length.
 *
 * <p>Immutable after construction; safe from any thread.
 */
final class SeededStream {
    private static final int PERIOD = 65_521; // prime: never aligned with chunk sizes
    /** The period twice, so that any PERIOD bytes of the stream are one slice of it. */
    private final byte[] block = new byte[2 * PERIOD];

    SeededStream(long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < PERIOD; i++) {
            block[i] = (byte) random.nextInt();
            block[PERIOD + i] = block[i];
        }
    }

    /** The n bytes from position pos. */
    byte[] bytes(long pos, int n) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(n);
        write(b, pos, n);
        return b.toByteArray();
    }

    /** Writes the n bytes from position pos. */
    void write(OutputStream out, long pos, int n) throws IOException {
        for (int k; n > 0; pos += k, n -= k) {
            k = Math.min(n, PERIOD);
            out.write(block, (int) (pos % PERIOD), k);
        }
    }

    /** Reads into b what comes next, the stream's bytes from pos, and checks them; -1 at EOF. */
    int readChecked(InputStream in, byte[] b, long pos, String what) throws IOException {
        int n = in.read(b);
        for (int i = 0, k; i < n; i += k) {
            k = Math.min(n - i, PERIOD);
            int off = (int) ((pos + i) % PERIOD);
            int at = Arrays.mismatch(b, i, i + k, block, off, off + k);
            if (at >= 0) {
                throw new AssertionError(what + ": echo differs at byte " + (pos + i + at));
            }
        }
        return n;
    }
}
