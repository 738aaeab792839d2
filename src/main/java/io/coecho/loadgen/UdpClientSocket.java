package io.coecho.loadgen;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.timer.Timer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;

/**
 * One "connection" of a UDP run: a socket with a sender coroutine (closed loop, or the open-loop
 * schedule, as {@link ClientConnection}) and a receiver coroutine that matches each echo to its
 * datagram by sequence number, so reordered, duplicated, late and lost echoes are told apart.
 *
 * <pre>
 *   datagram of sequence number q:  | q (8 bytes, big-endian) | Payload bytes [q·size + 8, (q+1)·size) |
 *   in flight:  ring[q mod R] = (q, state, intended send time, expiry)   R = 2^k ≥ 2 × pipeline
 * </pre>
 *
 * At most pipeline datagrams are in flight, so at least half the ring is free; the sender skips a
 * number whose slot is still in flight, so an echo finds its slot in one step. A slot answered or
 * expired keeps its number until reused, which is how a duplicate or a late echo is recognised.
 * Datagrams shorter than 8 bytes carry only the number's low bytes (the ring then has at most
 * 2^(8·size) slots); a corrupted one of those cannot be told from a late echo.
 *
 * <p>Loss: a sweep every timeout/8 (1 to 100 ms) expires datagrams older than the loss timeout and
 * frees their pipeline slots; whatever is still in flight when the socket closes is lost too.
 *
 * <p>Loop thread only. Lifecycle: NEW → bound → RUNNING → STOPPING (no new datagrams; waits for
 * echoes or their expiry) → CLOSED, at the first mismatch, or by the grace deadline.
 */
final class UdpClientSocket implements LoadClient {
    private static final int DATAGRAMS_PER_CALL = 64;
    private static final byte IN_FLIGHT = 1;
    private static final byte ANSWERED = 2;
    private static final byte EXPIRED = 3;

    final int id;
    private final ClientLoop share;
    private final Payload payload;
    private final int size;
    /** Bytes of sequence number at the start of each datagram: min(size, 8). */
    private final int header;
    private final int pipeline;
    private final long timeoutNanos;
    private final long sweepNanos;
    private final InetSocketAddress target;
    private final PeerAddress server;
    private final PeerAddress from = new PeerAddress();
    private final MemorySegment out;

    private final int mask;
    private final long[] seqs;
    private final long[] intended;
    private final long[] expires;
    private final byte[] states;
    private final boolean[] measured;

    private UdpSocket socket;
    private Coroutine sender;
    private boolean senderWaiting;
    private Timer pacer;
    private Timer sweeper;
    private int coroutines;
    private long nextSeq;
    private long sent;
    private int inFlight;
    private boolean closed;
    private boolean failed;

    UdpClientSocket(ClientLoop share, int id, LoadConfig config) {
        this.share = share;
        this.id = id;
        this.payload = Payload.forConnection(id);
        this.size = config.size();
        this.header = Math.min(size, Long.BYTES);
        this.pipeline = config.pipeline();
        this.timeoutNanos = config.udpTimeout().toNanos();
        this.sweepNanos = Math.clamp(timeoutNanos / 8, 1_000_000L, 100_000_000L);
        this.target = config.target();
        this.server = PeerAddress.of(target);
        this.out = Arena.ofAuto().allocate(size, 8);
        int ring = Math.max(64, Integer.highestOneBit(4 * pipeline - 1));
        if (header < Long.BYTES) {
            ring = Math.min(ring, 1 << (8 * header)); // LoadConfig keeps pipeline ≤ half of this
        }
        this.mask = ring - 1;
        this.seqs = new long[ring];
        Arrays.fill(seqs, -1);
        this.intended = new long[ring];
        this.expires = new long[ring];
        this.states = new byte[ring];
        this.measured = new boolean[ring];
    }

    /** Binds the socket on the loopback (or wildcard) address of the target's family, any port. */
    void bind(Transport transport) throws IOException {
        InetAddress t = target.getAddress();
        boolean v6 = t instanceof Inet6Address;
        String local = t.isLoopbackAddress() ? (v6 ? "::1" : "127.0.0.1") : (v6 ? "::" : "0.0.0.0");
        socket = transport.bindUdp(share.loop, new InetSocketAddress(InetAddress.ofLiteral(local), 0), false);
    }

    @Override
    public boolean opened() {
        return socket != null;
    }

    @Override
    public void start() {
        coroutines = 2;
        sweeper = share.loop.timers().newTimer(this::sweep);
        sweeper.reschedule(System.nanoTime() + sweepNanos);
        sender = Coroutine.spawn(share.loop, "bench-udp-send-" + id, this::sendLoop);
        Coroutine.spawn(share.loop, "bench-udp-receive-" + id, this::receiveLoop);
    }

    private void sendLoop() {
        try {
            while (sendSome()) {
                // a batch per call, for the JIT: see ClientConnection.writeSome
            }
        } finally {
            if (pacer != null) {
                pacer.cancel();
            }
            coroutineEnded();
        }
    }

    private boolean sendSome() {
        for (int i = 0; i < DATAGRAMS_PER_CALL; i++) {
            if (!sendNext()) {
                return false;
            }
        }
        return true;
    }

    /** Waits for a pipeline slot (and, open loop, the send time) and sends the next datagram. */
    private boolean sendNext() {
        long due = 0;
        double interval = share.intervalNanos;
        if (closed || share.stopping) {
            return false;
        }
        if (interval > 0) {
            due = share.startNanos + (long) (id * share.spacingNanos) + (long) (sent * interval);
            if (due - share.endNanos >= 0) {
                return false;
            }
            waitUntil(due);
        }
        while (inFlight >= pipeline && !closed && !share.stopping) {
            await();
        }
        if (closed || share.stopping) {
            return false;
        }
        long now = System.nanoTime();
        if (interval == 0) {
            if (now - share.endNanos >= 0) {
                return false;
            }
            due = now;
        }
        while (states[(int) (nextSeq & mask)] == IN_FLIGHT) {
            nextSeq++; // its slot still waits for an older echo: use the next number
        }
        long seq = nextSeq++;
        int slot = (int) (seq & mask);
        seqs[slot] = seq;
        states[slot] = IN_FLIGHT;
        intended[slot] = due;
        expires[slot] = now + timeoutNanos;
        measured[slot] = now - share.warmupEndNanos >= 0 && now - share.endNanos < 0;
        if (measured[slot]) {
            share.count(UdpCount.SENT);
        }
        inFlight++;
        sent++;
        fill(seq);
        try {
            socket.send(out, server);
        } catch (IOException e) {
            if (closed) {
                return false;
            }
            share.sendFailed(e); // not sent, so never echoed: it expires as lost
        }
        return true;
    }

    /** Writes datagram seq into out: its number, then the socket's pattern at stream offset seq·size. */
    private void fill(long seq) {
        for (int i = 0; i < header; i++) {
            out.set(ValueLayout.JAVA_BYTE, i, (byte) (seq >>> (8 * (header - 1 - i))));
        }
        if (size > header) {
            MemorySegment.copy(payload.slice(seq * size + header, size - header), 0, out, header, size - header);
        }
    }

    /** Open loop: sleeps until the intended send time, on a timer reused for every datagram. */
    private void waitUntil(long deadline) {
        if (System.nanoTime() - deadline >= 0) {
            return;
        }
        if (pacer == null) {
            pacer = share.loop.timers().newTimer(this::wakeSender);
        }
        pacer.reschedule(deadline);
        while (pacer.isPending() && !closed && !share.stopping) {
            await();
        }
        pacer.cancel();
    }

    private void await() {
        senderWaiting = true;
        try {
            Coroutine.suspend();
        } finally {
            senderWaiting = false;
        }
    }

    private void wakeSender() {
        if (senderWaiting) {
            sender.wake();
        }
    }

    private void receiveLoop() {
        MemorySegment buf = share.loop.scratch();
        try {
            while (receiveSome(buf)) {
                // a batch per call, for the JIT
            }
        } catch (IOException e) {
            if (!(closed && e instanceof ClosedChannelException)) {
                fail(Failure.RESET, "socket " + id + ": " + e.getMessage());
            }
        } finally {
            close();
            coroutineEnded();
        }
    }

    private boolean receiveSome(MemorySegment buf) throws IOException {
        for (int i = 0; i < DATAGRAMS_PER_CALL; i++) {
            if (closed || !receiveNext(buf)) {
                return false;
            }
        }
        return true;
    }

    /** Receives one datagram and accounts for it; false on a mismatch (the socket then closes). */
    private boolean receiveNext(MemorySegment buf) throws IOException {
        int n = socket.receive(buf, from);
        // buf is the loop's shared scratch: check it now, before anything can suspend.
        long now = System.nanoTime();
        boolean inWindow = now - share.warmupEndNanos >= 0;
        if (!from.sameAs(server)) {
            countIf(inWindow, UdpCount.UNEXPECTED);
            return true;
        }
        if (n != size) {
            return fail(Failure.MISMATCH, "socket " + id + ": a " + n + "-byte echo of a " + size + "-byte datagram");
        }
        long tag = 0;
        for (int i = 0; i < header; i++) {
            tag = tag << 8 | (buf.get(ValueLayout.JAVA_BYTE, i) & 0xFF);
        }
        int slot = (int) (tag & mask);
        long seq = sequenceOf(tag, slot);
        if (header == Long.BYTES && (seq < 0 || seq >= nextSeq)) {
            return fail(Failure.MISMATCH, "socket " + id + ": an echo numbered " + seq + ", never sent");
        }
        if (seq >= 0 && size > header) {
            long bad = payload.mismatch(buf.asSlice(header), size - header, seq * size + header);
            if (bad >= 0) {
                return fail(Failure.MISMATCH, "socket " + id + ": wrong byte " + (bad - seq * size)
                        + " in the echo of datagram " + seq);
            }
        }
        if (seq < 0 || seqs[slot] != seq || states[slot] == EXPIRED) {
            countIf(inWindow, UdpCount.LATE);
        } else if (states[slot] == ANSWERED) {
            countIf(inWindow, UdpCount.DUPLICATES);
        } else {
            states[slot] = ANSWERED;
            inFlight--;
            if (measured[slot]) {
                share.count(UdpCount.RECEIVED);
            }
            share.completed(now - intended[slot], now);
            wakeSender();
            if (share.stopping && inFlight == 0) {
                close();
            }
        }
        return true;
    }

    /** The full number of an echo's tag, or -1 when a short tag matches nothing in its slot. */
    private long sequenceOf(long tag, int slot) {
        if (header == Long.BYTES) {
            return tag;
        }
        long lowBytes = (1L << (8 * header)) - 1;
        return seqs[slot] >= 0 && (seqs[slot] & lowBytes) == tag ? seqs[slot] : -1;
    }

    private void countIf(boolean inWindow, UdpCount c) {
        if (inWindow) {
            share.count(c);
        }
    }

    /** Expires datagrams older than the loss timeout; runs on a timer every sweepNanos until closed. */
    private void sweep() {
        long now = System.nanoTime();
        int before = inFlight;
        expireInFlight(now, false);
        if (inFlight < before) {
            wakeSender();
        }
        if (share.stopping && inFlight == 0) {
            close();
        } else if (!closed) {
            sweeper.reschedule(now + sweepNanos);
        }
    }

    private void expireInFlight(long now, boolean all) {
        for (int i = 0; i <= mask; i++) {
            if (states[i] == IN_FLIGHT && (all || now - expires[i] >= 0)) {
                states[i] = EXPIRED;
                inFlight--;
                if (measured[i]) {
                    share.count(UdpCount.LOST);
                }
            }
        }
    }

    @Override
    public void windowOpened() {
        // Only datagrams sent in the window are counted: nothing to carry over.
    }

    @Override
    public void stop() {
        wakeSender();
        if (inFlight == 0) {
            close();
        }
    }

    /** Closes the socket (idempotent); what is still in flight, or was after a failure, counts as lost. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        expireInFlight(0, true);
        if (sweeper != null) {
            sweeper.cancel();
        }
        if (socket != null) {
            socket.close();
        }
        wakeSender();
    }

    private boolean fail(Failure f, String detail) {
        if (!failed) {
            failed = true;
            share.failed(f, detail);
        }
        close();
        return false;
    }

    private void coroutineEnded() {
        if (--coroutines == 0) {
            share.connectionEnded(this);
        }
    }
}
