package io.coecho.server.blocking;

import io.coecho.runtime.net.Disconnects;
import io.coecho.server.LogField;
import io.coecho.server.ServerConfig;
import io.coecho.server.proxy.ProxyHeaderParser;
import io.coecho.server.proxy.ProxyRejection;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.LongAdder;

/**
 * One client connection on a blocking engine: the seed's {@code handle_connection} written as plain
 * blocking code, read then write back, with the same behaviour as the coroutine engine's EchoConnection:
 * half-close at the peer's EOF, quiet ends for resets, idle and write timeouts, draining, and the
 * same admission (a trusted peer and its PROXY header under --proxy-protocol, the per-source limit).
 *
 * <p>Runs on its own thread (virtual or platform). Other threads only close it ({@link #closeBy}) or
 * wake it for draining ({@link #wakeIfReading}), and the watchdog reads its timestamps.
 * Lifecycle: ECHOING → (EOF, drain, or closed by the server) → [LINGERING, after a drain] → CLOSED.
 */
final class BlockingConnection implements Runnable {
    private static final System.Logger LOG = System.getLogger(BlockingConnection.class.getName());

    private final BlockingServer server;
    private final SocketChannel socket;
    /** Whom it serves, in logs and per-source counts: the PROXY header's client once read, else the peer. */
    private volatile SocketAddress remote;
    /** The socket's peer (under --proxy-protocol, the balancer). */
    private final SocketAddress peer;
    /** Whether anyone reads the timestamps: without timeouts the hot path takes no clock reading. */
    private final boolean timed;
    /** nanoTime of the last activity, a read or a completed echo write (as in EchoConnection). */
    private volatile long lastActive;
    /** nanoTime when the current write began, 0 when not writing. */
    private volatile long writingSince;
    /** True while in (or about to enter) a blocking read: the half of the drain handshake we own. */
    private volatile boolean reading;
    /** Why the server closed it (timeouts, shutdown), or null while the peer decides. */
    private volatile String closedBy;
    private InputStream drainInput;
    /** A drain found nothing more to read while the peer's side was still open: linger before closing. */
    private boolean drainedFirst;
    /** The PROXY header is still awaited, until headerDeadline (nanoTime) when that is set. */
    private volatile boolean awaitingHeader;
    private final long headerDeadline;
    /** What the PROXY header was ("PROXY v2"), or null without one. */
    private String headerKind;
    /** The --max-connections-per-source slot held (the SourceLimit key), or null. */
    private InetAddress sourceKey;

    /** headerRead: the server began draining while the header was awaited. */
    private static final int DRAINED = -2;

    BlockingConnection(BlockingServer server, SocketChannel socket, boolean timed, long headerNanos) {
        this.server = server;
        this.socket = socket;
        this.timed = timed;
        SocketAddress r;
        try {
            r = socket.getRemoteAddress();
        } catch (IOException e) {
            r = null;
        }
        this.remote = r;
        this.peer = r;
        this.lastActive = System.nanoTime();
        this.awaitingHeader = server.proxy.enabled() && headerNanos > 0;
        this.headerDeadline = lastActive + headerNanos;
    }

    /** Loads this class while file descriptors are plentiful: out of fds, a class may not load. */
    static void preload() {}

    @Override
    public void run() {
        ByteBuffer buf = null;
        boolean debug = LOG.isLoggable(System.Logger.Level.DEBUG);
        try (socket) {
            socket.setOption(StandardSocketOptions.TCP_NODELAY, true);
            // Urgent data (MSG_OOB) stays in the stream and is echoed like any byte (RFC 862, RFC 6093).
            socket.socket().setOOBInline(true);
            buf = server.takeBuffer();
            int early = admit(buf, debug);
            if (early < 0) {
                return; // refused (counted and logged) or drained: closed with nothing echoed
            }
            if (early > 0) {
                writeBack(buf, early); // what followed the PROXY header in its segment, before any read
            }
            echo(buf);
            // The peer shut down its side (or we drained) and has every byte back: now ours, then close.
            socket.shutdownOutput();
            if (drainedFirst) {
                linger();
            }
        } catch (IOException e) {
            ended(e);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "connection from " + remote + " failed", e);
        } finally {
            if (buf != null) {
                server.giveBack(buf);
            }
            if (sourceKey != null) {
                server.sources.release(sourceKey);
            }
            server.connectionEnded(this);
            if (debug) {
                LOG.log(System.Logger.Level.DEBUG, "connection from {0}: closed", LogField.remote(remote));
            }
        }
    }

    private void echo(ByteBuffer buf) throws IOException {
        while (true) {
            buf.clear();
            int n = receive(buf);
            if (n < 0) {
                return;
            }
            writeBack(buf, n);
        }
    }

    /** Writes back buf[0, n), counted and timed. */
    private void writeBack(ByteBuffer buf, int n) throws IOException {
        server.bytesIn.add(n);
        buf.position(0).limit(n);
        long start = System.nanoTime();
        writingSince = start;
        // Virtual threads: a blocking write returns after the first bytes go out, and anything left
        // means the send buffer is full. Platform threads: the write blocks inside the kernel until
        // all is queued, so only its duration tells. Either way, a write that waited for the peer
        // is counted (writeWaits); a peer that never reads is cut by the watchdog.
        socket.write(buf);
        boolean waited = buf.hasRemaining();
        while (buf.hasRemaining()) {
            socket.write(buf);
        }
        long end = System.nanoTime();
        if (waited || end - start >= STALLED_NANOS) {
            server.writeWaits.increment();
        }
        lastActive = end;
        writingSince = 0;
        server.bytesOut.add(n);
    }

    /**
     * Admission, before any echo, as the coroutine engine's EchoConnection.admit: a trusted peer and
     * its PROXY header under --proxy-protocol, then a slot under --max-connections-per-source.
     * Returns how many bytes followed the header, at buf[0, n), to be echoed first; -1 when refused
     * (counted, logged at DEBUG) or drained meanwhile.
     */
    private int admit(ByteBuffer buf, boolean debug) throws IOException {
        if (server.proxy.enabled()) {
            int early;
            try {
                if (!(peer instanceof InetSocketAddress p) || !server.proxy.trusted().contains(p.getAddress())) {
                    server.untrustedPeer(peer);
                    return refuse(ProxyRejection.UNTRUSTED, "not in --proxy-trusted");
                }
                early = readProxyHeader(buf);
            } finally {
                // Whatever the outcome, the watchdog's header deadline no longer applies (a refusal
                // must not also count as a timeout).
                awaitingHeader = false;
            }
            if (early < 0) {
                return -1;
            }
            lastActive = System.nanoTime();
            return admitSource(debug) ? early : -1;
        }
        return admitSource(debug) ? 0 : -1;
    }

    private boolean admitSource(boolean debug) {
        if (server.sources != null && remote instanceof InetSocketAddress r) {
            sourceKey = server.sources.tryAcquire(r.getAddress());
            if (sourceKey == null) {
                server.sourceLimited.increment();
                if (debug) {
                    LOG.log(System.Logger.Level.DEBUG, "connection from {0}: closed at once ({1})", LogField.remote(remote),
                            LogField.reason("--max-connections-per-source " + server.sources.max() + " open"));
                }
                return false;
            }
        }
        if (debug) {
            if (headerKind == null) {
                LOG.log(System.Logger.Level.DEBUG, "connection accepted from {0}", LogField.remote(remote));
            } else {
                LOG.log(System.Logger.Level.DEBUG, "connection accepted from {0} ({1} via {2})", LogField.remote(remote),
                        headerKind, LogField.proxy(peer));
            }
        }
        return true;
    }

    /**
     * Reads the PROXY header into this connection's buffer and parses it there, in place (the
     * coroutine engine does the same in its loop's scratch buffer). Returns the count of bytes that
     * followed it, moved to buf[0, n); -1 if refused or drained.
     */
    private int readProxyHeader(ByteBuffer buf) throws IOException {
        ProxyHeaderParser parser = new ProxyHeaderParser();
        MemorySegment in = MemorySegment.ofBuffer(buf.clear());
        int have = 0;
        while (true) {
            buf.limit(buf.capacity()).position(have);
            int n = headerRead(buf);
            if (n == DRAINED) {
                return -1;
            }
            if (n < 0) {
                return refuse(ProxyRejection.TRUNCATED, "closed before the header was complete");
            }
            int total = have + n;
            int length = parser.parse(in, total);
            if (length == ProxyHeaderParser.INCOMPLETE) {
                have = total;
                incomplete(have);
                continue;
            }
            if (length == ProxyHeaderParser.REJECTED) {
                return refuse(parser.rejection(), parser.problem());
            }
            headerKind = parser.kind();
            if (!parser.local()) {
                remote = parser.source();
            }
            // What follows the header starts at from, in buf[0, total). A long v2 header (TLVs) may
            // not be all in yet: read the rest and drop it.
            int from = length;
            for (int rest = length - total; rest > 0; ) {
                incomplete(length - rest);
                buf.clear();
                n = headerRead(buf);
                if (n == DRAINED) {
                    return -1;
                }
                if (n < 0) {
                    return refuse(ProxyRejection.TRUNCATED, "closed before the header was complete");
                }
                total = n;
                from = Math.min(rest, n);
                rest -= from;
            }
            MemorySegment.copy(in, from, in, 0, total - from);
            return total - from;
        }
    }

    /** The header is not complete yet: says so at TRACE (tests wait for it to send the rest). */
    private void incomplete(long received) {
        if (LOG.isLoggable(System.Logger.Level.TRACE)) {
            LOG.log(System.Logger.Level.TRACE, "connection from {0}: PROXY header incomplete after {1} bytes",
                    LogField.remote(peer), String.valueOf(received));
        }
    }

    /** A read while the header is awaited: the count, -1 at EOF or a reset, or DRAINED. */
    private int headerRead(ByteBuffer buf) throws IOException {
        reading = true; // the drain handshake, as in receive
        if (server.draining) {
            reading = false;
            return DRAINED;
        }
        try {
            int n = socket.read(buf);
            return n < 0 && server.draining ? DRAINED : n;
        } catch (IOException e) {
            if (closedBy == null && Disconnects.isPeerGone(e)) {
                return -1;
            }
            throw e;
        } finally {
            reading = false;
        }
    }

    /** Counts a refusal and says so at DEBUG; returns -1 for admit's caller. */
    private int refuse(ProxyRejection why, String problem) {
        server.proxyRejected[why.ordinal()].increment();
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "connection from {0}: refused, PROXY header {1} ({2})", LogField.remote(peer),
                    LogField.reason(why.label()), problem);
        }
        return -1;
    }

    /** Reads, or while draining takes only what has already arrived (-1 when that is all). */
    private int receive(ByteBuffer buf) throws IOException {
        // Handshake with BlockingServer.close(): we publish "reading", then look at "draining"; the
        // closer publishes "draining", then looks at "reading". With volatiles at least one of us sees
        // the other, so no connection sleeps in read through a drain.
        reading = true;
        if (server.draining) {
            reading = false;
            return drainRead(buf);
        }
        try {
            int n = socket.read(buf);
            if (timed) {
                lastActive = System.nanoTime();
            }
            return n;
        } finally {
            reading = false;
        }
    }

    /**
     * Takes what is already queued without waiting. Not shutdownInput(): after it the JDK answers
     * every read with EOF at once, even with data queued, and closing with unread data sends a reset.
     */
    private int drainRead(ByteBuffer buf) throws IOException {
        if (drainInput == null) {
            try {
                drainInput = socket.socket().getInputStream();
            } catch (SocketException e) {
                return -1; // input already shut down: woken from a read just now
            }
        }
        if (drainInput.available() <= 0) {
            drainedFirst = true;
            return -1;
        }
        return socket.read(buf); // data is queued: returns without blocking
    }

    /**
     * The lingering close, as the coroutine engine's: read and discard until the peer's EOF, its
     * reset, or {@link ServerConfig#DRAIN_LINGER}, so that data the peer still sends cannot make the
     * kernel reset the connection and throw away echo not yet delivered. Through the socket adaptor,
     * whose reads take a timeout (the channel's do not); allocates, at shutdown only. Not after
     * {@link #wakeIfReading}: the JDK reads nothing more once input is shut down.
     */
    private void linger() throws IOException {
        byte[] discard = new byte[4096];
        long deadline = System.nanoTime() + ServerConfig.DRAIN_LINGER.toNanos();
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            // Rounded up: a timeout of 0 would mean none.
            socket.socket().setSoTimeout((int) Math.max(1, (left + 999_999) / 1_000_000));
            try {
                if (drainInput.read(discard) < 0) {
                    return;
                }
            } catch (SocketTimeoutException e) {
                return;
            }
        }
    }

    /**
     * Draining: a connection blocked in read with nothing queued has nothing in flight, so wake it. On
     * Linux a read blocked at shutdownInput() returns EOF (checked for virtual and platform threads).
     * Not when bytes are queued: "reading" also holds just before and after the read itself, and for
     * a thread woken by data that has not run yet, and once input is shut down the JDK reads nothing
     * more (EOF at once, available() 0), so those bytes, which arrived before the drain, would never
     * be echoed and closing over them resets the connection. Such a read returns without our help
     * (only its own thread takes bytes out), and the next receive sees "draining". A byte that
     * arrives after we looked was sent after the drain began. Any thread; allocates (shutdown only).
     */
    void wakeIfReading() {
        if (reading) {
            try {
                if (socket.socket().getInputStream().available() == 0) {
                    socket.shutdownInput();
                }
            } catch (IOException e) {
                // Already closed or shut down: it is ending anyway.
            }
        }
    }

    /**
     * A write still going after this long is waiting for its peer to read (the gauge writesWaiting):
     * copying 16 KiB into a socket takes microseconds.
     */
    static final long STALLED_NANOS = 5_000_000L;

    /** True while this connection's current write has waited at least {@link #STALLED_NANOS}. */
    boolean writeStalled(long now) {
        long since = writingSince;
        return since != 0 && now - since >= STALLED_NANOS;
    }

    /** Closes for a timeout: called by the watchdog with its clock reading. */
    void checkTimeouts(long now, long idleNanos, long writeNanos) {
        if (awaitingHeader) {
            if (now - headerDeadline >= 0) {
                closeBy("refused, PROXY header timeout: not complete within --proxy-header-timeout",
                        server.proxyRejected[ProxyRejection.TIMEOUT.ordinal()]);
            }
            return;
        }
        long since = writingSince;
        if (since != 0) {
            if (writeNanos > 0 && now - since >= writeNanos) {
                closeBy("write timeout", server.writeTimeouts);
            }
        } else if (idleNanos > 0 && now - lastActive >= idleNanos && !inputWaiting()) {
            closeBy("idle timeout", server.idleTimeouts);
        }
    }

    /**
     * Whether bytes wait unread in the socket: then the peer is not idle, whatever the clock says.
     * After a stall of the whole process (SIGSTOP, a long GC pause, a frozen VM) the watchdog may look
     * before this connection's thread has run again, and a request that arrived during the stall
     * would be closed over, unread (the kernel then resets the connection: ProcessPauseIT). Watchdog
     * thread; asks the kernel (FIONREAD) only for a connection already past its idle deadline.
     */
    private boolean inputWaiting() {
        try {
            return socket.socket().getInputStream().available() > 0;
        } catch (IOException e) {
            return false; // closed or shut down: nothing more will be read from it anyway
        }
    }

    /** The shutdown timeout passed: close now. Any thread. */
    void cut() {
        closeBy("shutdown", server.cut);
    }

    /**
     * Counts, then closes (so a client that sees the close also sees the count); closing wakes a
     * thread blocked in read or write with AsynchronousCloseException. Once only. Any thread.
     */
    private synchronized void closeBy(String reason, LongAdder counter) {
        if (closedBy != null) {
            return;
        }
        closedBy = reason;
        counter.increment();
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: closing ({1})", LogField.remote(remote), LogField.reason(reason));
        }
        try {
            socket.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: close failed: {1}", remote, e.toString());
        }
    }

    private void ended(IOException e) {
        if (closedBy != null && e instanceof ClosedChannelException) {
            return; // we closed it ourselves, and said so
        }
        if (Disconnects.isPeerGone(e)) {
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: peer went away ({1})", LogField.remote(remote),
                        LogField.reason(e.getMessage()));
            }
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "connection from {0} failed: {1}", LogField.remote(remote),
                LogField.reason(e.toString()));
    }

    boolean isClosedByServer() {
        return closedBy != null;
    }
}
