package io.coecho.loadgen;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.timer.Timer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The sending half of a {@link UdpClientSocket}: a coroutine that sends numbered datagrams, as fast
 * as the pipeline allows (closed loop) or on the open-loop schedule, as {@link ClientConnection}'s
 * writer does. Each datagram is recorded in the socket's {@link InFlightDatagrams} before it goes.
 *
 * <p>Loop thread only. Lifecycle: started with the socket; ends when the run is over or the socket
 * closes, and the socket wakes it for either.
 */
final class UdpSender {
    private static final int DATAGRAMS_PER_CALL = 64;

    private final UdpClientSocket owner;
    private final ClientLoop share;
    private final DatagramFormat format;
    private final InFlightDatagrams inFlight;
    private final int pipeline;
    private final long timeoutNanos;
    private final PeerAddress server;
    private final MemorySegment out;

    private UdpSocket socket;
    private Coroutine coroutine;
    private boolean waiting;
    private Timer pacer;
    private long sent;

    UdpSender(UdpClientSocket owner, ClientLoop share, LoadConfig config, PeerAddress server,
            DatagramFormat format, InFlightDatagrams inFlight) {
        this.owner = owner;
        this.share = share;
        this.format = format;
        this.inFlight = inFlight;
        this.pipeline = config.pipeline();
        this.timeoutNanos = config.udpTimeout().toNanos();
        this.server = server;
        this.out = Arena.ofAuto().allocate(format.size(), 8);
    }

    /** Spawns the sender coroutine on the bound socket. */
    void start(UdpSocket socket) {
        this.socket = socket;
        coroutine = Coroutine.spawn(share.loop, "bench-udp-send-" + owner.id, this::sendLoop);
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
            owner.coroutineEnded();
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
        if (owner.closed() || share.stopping) {
            return false;
        }
        if (interval > 0) {
            due = share.startNanos + (long) (owner.id * share.spacingNanos) + (long) (sent * interval);
            if (due - share.endNanos >= 0) {
                return false;
            }
            waitUntil(due);
        }
        while (inFlight.count() >= pipeline && !owner.closed() && !share.stopping) {
            await();
        }
        if (owner.closed() || share.stopping) {
            return false;
        }
        long now = System.nanoTime();
        if (interval == 0) {
            if (now - share.endNanos >= 0) {
                return false;
            }
            due = now;
        }
        boolean inWindow = now - share.warmupEndNanos >= 0 && now - share.endNanos < 0;
        long seq = inFlight.add(due, now + timeoutNanos, inWindow);
        if (inWindow) {
            share.count(UdpCount.SENT);
        }
        sent++;
        format.write(seq, out);
        try {
            socket.send(out, server);
        } catch (IOException e) {
            if (owner.closed()) {
                return false;
            }
            share.sendFailed(e); // not sent, so never echoed: it expires as lost
        }
        return true;
    }

    /** Open loop: sleeps until the intended send time, on a timer reused for every datagram. */
    private void waitUntil(long deadline) {
        if (System.nanoTime() - deadline >= 0) {
            return;
        }
        if (pacer == null) {
            pacer = share.loop.timers().newTimer(this::wake);
        }
        pacer.reschedule(deadline);
        while (pacer.isPending() && !owner.closed() && !share.stopping) {
            await();
        }
        pacer.cancel();
    }

    private void await() {
        waiting = true;
        try {
            Coroutine.suspend();
        } finally {
            waiting = false;
        }
    }

    /** Wakes the sender if it waits for a pipeline slot or its next send time. */
    void wake() {
        if (waiting) {
            coroutine.wake();
        }
    }
}
