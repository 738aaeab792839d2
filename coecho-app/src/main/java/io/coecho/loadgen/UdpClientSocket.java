package io.coecho.loadgen;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.timer.Timer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * One "connection" of a UDP run: a socket with a sender coroutine ({@link UdpSender}: closed loop,
 * or the open-loop schedule, as {@link ClientConnection}) and a receiver coroutine that matches each
 * echo to its datagram by sequence number, so reordered, duplicated, late and lost echoes are told
 * apart. The bytes of a datagram are {@link DatagramFormat}'s; the datagrams owed an echo, and how
 * each echo is classified, are {@link InFlightDatagrams}'.
 *
 * <p>Loss: a sweep every timeout/8 (1 to 100 ms) expires datagrams older than the loss timeout and
 * frees their pipeline slots; whatever is still in flight when the socket closes is lost too.
 *
 * <p>Loop thread only. Lifecycle: NEW → bound → RUNNING → STOPPING (no new datagrams; waits for
 * echoes or their expiry) → CLOSED, at the first mismatch, or by the grace deadline.
 */
final class UdpClientSocket implements LoadClient {
    private static final int DATAGRAMS_PER_CALL = 64;

    final int id;
    private final ClientLoop share;
    private final DatagramFormat format;
    private final InFlightDatagrams inFlight;
    private final UdpSender sender;
    private final long sweepNanos;
    private final InetSocketAddress target;
    private final PeerAddress server;
    private final PeerAddress from = new PeerAddress();

    private UdpSocket socket;
    private Timer sweeper;
    private int coroutines;
    private boolean closed;
    private boolean failed;

    UdpClientSocket(ClientLoop share, int id, LoadConfig config) {
        this.share = share;
        this.id = id;
        this.format = new DatagramFormat(Payload.forConnection(id), config.size());
        this.inFlight = new InFlightDatagrams(config.pipeline(), format.tagBytes());
        this.sweepNanos = Math.clamp(config.udpTimeout().toNanos() / 8, 1_000_000L, 100_000_000L);
        this.target = config.target();
        this.server = PeerAddress.of(target);
        this.sender = new UdpSender(this, share, config, server, format, inFlight);
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
        sender.start(socket);
        Coroutine.spawn(share.loop, "bench-udp-receive-" + id, this::receiveLoop);
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
        if (n != format.size()) {
            return fail(Failure.MISMATCH, "socket " + id + ": a " + n + "-byte echo of a " + format.size()
                    + "-byte datagram");
        }
        long seq = inFlight.sequenceOf(format.tagOf(buf));
        if (inFlight.neverSent(seq)) {
            return fail(Failure.MISMATCH, "socket " + id + ": an echo numbered " + seq + ", never sent");
        }
        if (seq >= 0) {
            long bad = format.mismatch(buf, seq);
            if (bad >= 0) {
                return fail(Failure.MISMATCH, "socket " + id + ": wrong byte " + bad
                        + " in the echo of datagram " + seq);
            }
        }
        UdpCount outcome = inFlight.answer(seq);
        if (outcome != UdpCount.RECEIVED) {
            countIf(inWindow, outcome); // LATE or DUPLICATES
            return true;
        }
        if (inFlight.measured(seq)) {
            share.count(UdpCount.RECEIVED);
        }
        share.completed(now - inFlight.intendedNanos(seq), now);
        sender.wake();
        if (share.stopping && inFlight.count() == 0) {
            close();
        }
        return true;
    }

    private void countIf(boolean inWindow, UdpCount c) {
        if (inWindow) {
            share.count(c);
        }
    }

    /** Expires datagrams older than the loss timeout; runs on a timer every sweepNanos until closed. */
    private void sweep() {
        long now = System.nanoTime();
        int before = inFlight.count();
        share.count(UdpCount.LOST, inFlight.expire(now));
        if (inFlight.count() < before) {
            sender.wake();
        }
        if (share.stopping && inFlight.count() == 0) {
            close();
        } else if (!closed) {
            sweeper.reschedule(now + sweepNanos);
        }
    }

    @Override
    public void windowOpened() {
        // Only datagrams sent in the window are counted: nothing to carry over.
    }

    @Override
    public void stop() {
        sender.wake();
        if (inFlight.count() == 0) {
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
        share.count(UdpCount.LOST, inFlight.expireAll());
        if (sweeper != null) {
            sweeper.cancel();
        }
        if (socket != null) {
            socket.close();
        }
        sender.wake();
    }

    private boolean fail(Failure f, String detail) {
        if (!failed) {
            failed = true;
            share.failed(f, detail);
        }
        close();
        return false;
    }

    boolean closed() {
        return closed;
    }

    /** Called as each of the two coroutines ends; the last one ends the socket's part in the run. */
    void coroutineEnded() {
        if (--coroutines == 0) {
            share.connectionEnded(this);
        }
    }
}
