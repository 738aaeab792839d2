package io.coecho.loadgen;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The bytes of a UDP run's datagrams: each carries its sequence number, then the socket's
 * {@link Payload} at the stream offset the number gives, so every echoed byte can be checked.
 *
 * <pre>
 *   datagram of sequence number q:  | q (8 bytes, big-endian) | Payload bytes [q·size + 8, (q+1)·size) |
 * </pre>
 *
 * Datagrams shorter than 8 bytes carry only the number's low bytes (see {@link InFlightDatagrams}).
 *
 * <p>Immutable; used on the socket's loop thread.
 */
final class DatagramFormat {
    private final Payload payload;
    private final int size;
    /** Bytes of sequence number at the start of each datagram: min(size, 8). */
    private final int tagBytes;

    DatagramFormat(Payload payload, int size) {
        this.payload = payload;
        this.size = size;
        this.tagBytes = Math.min(size, Long.BYTES);
    }

    int size() {
        return size;
    }

    int tagBytes() {
        return tagBytes;
    }

    /** Writes datagram seq into out: its number, then the pattern at stream offset seq·size. */
    void write(long seq, MemorySegment out) {
        for (int i = 0; i < tagBytes; i++) {
            out.set(ValueLayout.JAVA_BYTE, i, (byte) (seq >>> (8 * (tagBytes - 1 - i))));
        }
        if (size > tagBytes) {
            int body = size - tagBytes;
            MemorySegment.copy(payload.slice(seq * size + tagBytes, body), 0, out, tagBytes, body);
        }
    }

    /** The sequence number (or its low bytes) at the start of a datagram. */
    long tagOf(MemorySegment datagram) {
        long tag = 0;
        for (int i = 0; i < tagBytes; i++) {
            tag = tag << 8 | (datagram.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        }
        return tag;
    }

    /** The offset in the datagram of the first byte after the tag that is not datagram seq's, or -1. */
    long mismatch(MemorySegment datagram, long seq) {
        if (size <= tagBytes) {
            return -1;
        }
        long bad = payload.mismatch(datagram.asSlice(tagBytes), size - tagBytes, seq * size + tagBytes);
        return bad < 0 ? -1 : bad - seq * size;
    }
}
