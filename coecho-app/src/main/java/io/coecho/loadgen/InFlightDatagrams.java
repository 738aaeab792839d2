package io.coecho.loadgen;

import java.util.Arrays;

/**
 * The datagrams of one {@link UdpClientSocket} that are owed an echo, in a ring indexed by
 * sequence number:
 *
 * <pre>
 *   ring[q mod R] = (q, state, intended send time, expiry, measured)   R = 2^k ≥ 2 × pipeline
 * </pre>
 *
 * At most pipeline datagrams are in flight, so at least half the ring is free; {@link #add} skips a
 * number whose slot is still in flight, so an echo finds its slot in one step. A slot answered or
 * expired keeps its number until reused, which is how a duplicate or a late echo is recognised.
 * Datagrams shorter than 8 bytes carry only the number's low bytes (the ring then has at most
 * 2^(8·size) slots, and a short tag is completed from its slot); a corrupted one of those cannot be
 * told from a late echo.
 *
 * <p>Loop thread only (the socket's). Lifecycle: created with the socket; {@link #expireAll} when it
 * closes.
 */
final class InFlightDatagrams {
    private static final byte IN_FLIGHT = 1;
    private static final byte ANSWERED = 2;
    private static final byte EXPIRED = 3;

    /** Bytes of sequence number each datagram carries: min(size, 8). */
    private final int tagBytes;
    private final int mask;
    private final long[] seqs;
    private final long[] intended;
    private final long[] expires;
    private final byte[] states;
    private final boolean[] measured;
    private long nextSeq;
    private int count;

    InFlightDatagrams(int pipeline, int tagBytes) {
        this.tagBytes = tagBytes;
        int ring = Math.max(64, Integer.highestOneBit(4 * pipeline - 1));
        if (tagBytes < Long.BYTES) {
            ring = Math.min(ring, 1 << (8 * tagBytes)); // LoadConfig keeps pipeline ≤ half of this
        }
        this.mask = ring - 1;
        this.seqs = new long[ring];
        Arrays.fill(seqs, -1);
        this.intended = new long[ring];
        this.expires = new long[ring];
        this.states = new byte[ring];
        this.measured = new boolean[ring];
    }

    /** Datagrams sent and neither answered nor expired yet. */
    int count() {
        return count;
    }

    /** Records a datagram about to be sent and returns its number: the next one with a free slot. */
    long add(long intendedNanos, long expiresNanos, boolean inWindow) {
        while (states[(int) (nextSeq & mask)] == IN_FLIGHT) {
            nextSeq++; // its slot still waits for an older echo: use the next number
        }
        long seq = nextSeq++;
        int slot = (int) (seq & mask);
        seqs[slot] = seq;
        states[slot] = IN_FLIGHT;
        intended[slot] = intendedNanos;
        expires[slot] = expiresNanos;
        measured[slot] = inWindow;
        count++;
        return seq;
    }

    /** The full number of an echo's tag, or -1 when a short tag matches nothing in its slot. */
    long sequenceOf(long tag) {
        if (tagBytes == Long.BYTES) {
            return tag;
        }
        int slot = (int) (tag & mask);
        long lowBytes = (1L << (8 * tagBytes)) - 1;
        return seqs[slot] >= 0 && (seqs[slot] & lowBytes) == tag ? seqs[slot] : -1;
    }

    /** True for a full 8-byte number never handed out: a corrupted echo, not a late one. */
    boolean neverSent(long seq) {
        return tagBytes == Long.BYTES && (seq < 0 || seq >= nextSeq);
    }

    /**
     * Takes an echo of datagram seq (-1 if unknown): RECEIVED for the first echo of a datagram in
     * flight (no longer in flight), DUPLICATES for a later one, LATE for an echo of a datagram
     * expired, of a number whose slot was reused, or of an unknown number.
     */
    UdpCount answer(long seq) {
        int slot = (int) (seq & mask);
        if (seq < 0 || seqs[slot] != seq || states[slot] == EXPIRED) {
            return UdpCount.LATE;
        }
        if (states[slot] == ANSWERED) {
            return UdpCount.DUPLICATES;
        }
        states[slot] = ANSWERED;
        count--;
        return UdpCount.RECEIVED;
    }

    /** Whether datagram seq, as returned by {@link #add}, was sent in the measured window. */
    boolean measured(long seq) {
        return measured[(int) (seq & mask)];
    }

    /** The intended send time of datagram seq, as returned by {@link #add}. */
    long intendedNanos(long seq) {
        return intended[(int) (seq & mask)];
    }

    /** Expires the datagrams whose loss timeout has passed at now; returns how many were measured. */
    int expire(long now) {
        return expire(now, false);
    }

    /** Expires every datagram in flight (the socket closes); returns how many were measured. */
    int expireAll() {
        return expire(0, true);
    }

    private int expire(long now, boolean all) {
        int lost = 0;
        for (int i = 0; i <= mask; i++) {
            if (states[i] == IN_FLIGHT && (all || now - expires[i] >= 0)) {
                states[i] = EXPIRED;
                count--;
                if (measured[i]) {
                    lost++;
                }
            }
        }
        return lost;
    }
}
