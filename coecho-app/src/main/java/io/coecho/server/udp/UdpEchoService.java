package io.coecho.server.udp;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.PeerAddress;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.net.UdpSocket;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.server.PortProbe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * UDP echo (RFC 862) on one loop's socket: "when a datagram is received, the data from it is sent
 * back in an answering datagram", unless the {@link ReflectionGuard} says no. One coroutine per
 * socket, a receive-check-send loop that reads like blocking code.
 *
 * <p>The datagram buffer is this service's own, not the loop's shared scratch: a send that finds the
 * socket's buffer full suspends, and the loop's TCP connections would overwrite shared scratch
 * meanwhile. It holds {@code maxDatagram} bytes; a larger datagram is recognised by its full length
 * (MSG_TRUNC) and dropped as oversize, never echoed cut short.
 *
 * <p>Loop thread only, except the counters, which other threads read (plain fields, as in
 * the coroutine engine's Worker). Lifecycle: RECEIVING → {@link #close()} → DONE (socket closed, coroutine ended).
 */
public final class UdpEchoService {
    private static final System.Logger LOG = System.getLogger(UdpEchoService.class.getName());
    private static final Duration RECEIVE_BACKOFF = Duration.ofMillis(100);

    final EventLoop loop;
    private final UdpSocket socket;
    private final ReflectionGuard guard;
    private final DropReport report;
    private final MemorySegment buffer;
    private final PeerAddress from = new PeerAddress();
    private boolean failing;

    // Counters: written by the loop thread only.
    long received;
    long echoed;
    long bytesIn;
    long bytesOut;
    final long[] dropped = new long[DropReason.values().length];

    UdpEchoService(EventLoop loop, UdpSocket socket, ReflectionGuard guard, DropReport report, int maxDatagram) {
        this.loop = loop;
        this.socket = socket;
        this.guard = guard;
        this.report = report;
        this.buffer = Arena.ofAuto().allocate(maxDatagram, 64);
    }

    /**
     * UDP echo on the TCP address and port (RFC 862 gives echo both), one socket per loop given, each
     * with its own guard sharing the global rate limit and one drop report. Binds them all before
     * any loop starts, so a taken UDP port fails the start-up. Empty when UDP is off.
     */
    public static List<UdpEchoService> openAll(UdpConfig u, Transport transport, List<EventLoop> loops,
            InetSocketAddress at, boolean reusePort) throws IOException {
        if (!u.enabled()) {
            return List.of();
        }
        if (reusePort) {
            PortProbe.ensureUdpFree(at);
        }
        List<UdpSocket> sockets = new ArrayList<>();
        try {
            for (EventLoop loop : loops) {
                sockets.add(transport.bindUdp(loop, at, reusePort));
            }
        } catch (IOException | RuntimeException e) {
            sockets.forEach(UdpSocket::close);
            throw e;
        }
        TokenBucket global = u.globalRate() > 0 ? new TokenBucket(u.globalRate(), u.globalBurst(), System.nanoTime()) : null;
        int[] broadcasts = ReflectionGuard.localBroadcasts();
        DropReport report = new DropReport(u.dropLogInterval());
        List<UdpEchoService> services = new ArrayList<>();
        for (int i = 0; i < sockets.size(); i++) {
            ReflectionGuard guard = new ReflectionGuard(u, at.getPort(), broadcasts, global);
            UdpEchoService s = new UdpEchoService(loops.get(i), sockets.get(i), guard, report, u.maxDatagram());
            report.add(s);
            services.add(s);
        }
        return services;
    }

    /** Starts the receive loop. Loop thread. */
    public void start() {
        Coroutine.spawn(loop, "udp " + socket.localAddress(), this::serve);
    }

    /** Closes the socket; the receive loop ends. Loop thread; idempotent. */
    public void close() {
        socket.close();
    }

    private void serve() {
        try (socket) {
            while (true) {
                int n;
                try {
                    n = socket.receive(buffer, from);
                } catch (ClosedChannelException e) {
                    return; // closed: the server is shutting down
                } catch (IOException e) {
                    receiveFailed(e);
                    continue;
                }
                received++;
                bytesIn += n;
                if (n > buffer.byteSize()) {
                    drop(DropReason.OVERSIZE);
                    continue;
                }
                DropReason why = guard.check(from, System.nanoTime());
                if (why != null) {
                    drop(why);
                    continue;
                }
                if (answer(n)) {
                    echoed++;
                    bytesOut += n;
                }
            }
        } catch (ClosedChannelException e) {
            // Closed while sending: the server is shutting down.
        }
    }

    /**
     * recvfrom on an unconnected datagram socket fails only for want of resources (ENOMEM) or worse:
     * say so once, then retry at a slow pace rather than spin or give up.
     */
    private void receiveFailed(IOException e) {
        LOG.log(System.Logger.Level.WARNING, "udp on {0}: receive failed ({1}); retrying in 100 ms",
                socket.localAddress(), e.getMessage());
        Coroutine.sleep(RECEIVE_BACKOFF);
    }

    /** Sends the echo; a failure concerns this datagram only, so it is counted, not thrown. */
    private boolean answer(int n) throws ClosedChannelException {
        try {
            socket.send(buffer.asSlice(0, n), from);
            if (failing) {
                failing = false;
                LOG.log(System.Logger.Level.DEBUG, "udp on {0}: sending works again", socket.localAddress());
            }
            return true;
        } catch (ClosedChannelException e) {
            throw e;
        } catch (IOException e) {
            drop(DropReason.SEND_FAILED);
            if (!failing) {
                // Once per run of failures: a blocked destination must not flood the log.
                failing = true;
                LOG.log(System.Logger.Level.DEBUG, "udp on {0}: answer to {1} not sent: {2}", socket.localAddress(),
                        from, e.getMessage());
            }
            return false;
        }
    }

    private void drop(DropReason why) {
        dropped[why.ordinal()]++;
        report.dropped(loop);
    }
}
