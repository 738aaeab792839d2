package io.coecho.server.coroutine;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Disconnects;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.LoopStats;
import io.coecho.runtime.timer.Timer;
import io.coecho.server.LogField;
import io.coecho.server.ServerConfig;
import io.coecho.server.proxy.ProxyHeaderParser;
import io.coecho.server.proxy.ProxyRejection;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;

/**
 * One client connection on the coroutine engine: the seed's {@code handle_connection}, a loop of
 * read and write-back that reads like blocking code, plus what production needs around it.
 *
 * <ul>
 *   <li>Admission ({@link #admit}): under --proxy-protocol, a trusted peer and a valid PROXY header
 *       first, read in the loop's scratch buffer and never echoed; the client it names is what the
 *       logs and --max-connections-per-source see.
 *   <li>Memory: it reads into the loop's shared scratch buffer; only when the peer is slow does the
 *       stream borrow a buffer for the unsent rest, so an idle connection holds no buffer at all.
 *   <li>Flow control: while a write waits for the peer to read, the connection reads nothing more.
 *   <li>Half-close: at the peer's EOF it has echoed everything, so it shuts down its side and closes.
 *   <li>Timeouts: one watchdog timer per connection, moved lazily (an echo only stamps a time), for
 *       idleness (nothing read, no echo written) and for a peer that stops reading its echo (while
 *       an echo write waits, only the write timeout applies).
 *   <li>Graceful shutdown: when draining, it echoes what has already arrived, shuts down its side,
 *       and lingers until the peer's EOF before it closes (see {@link #linger}).
 * </ul>
 *
 * <p>Loop thread only: runs as one coroutine on its worker's loop.
 */
final class EchoConnection implements Coroutine.Body {
    private static final System.Logger LOG = System.getLogger(EchoConnection.class.getName());

    /** Thrown into a connection waiting in read when the server starts draining. */
    static final RuntimeException DRAIN = new RuntimeException("draining", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    /** Thrown into a lingering connection when its time is up. */
    private static final RuntimeException LINGER_OVER = new RuntimeException("linger over", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    /** Round trips in the first call of {@link #echoSome} (see there); each later call does four times as many, up to the max. */
    private static final int FIRST_ROUND_TRIPS = 1;
    private static final int MAX_ROUND_TRIPS = 1 << 16;
    /** headerRead: the server began draining while the header was awaited. */
    private static final int DRAINED = -2;

    private final Worker worker;
    private final TcpStream stream;
    private Coroutine coroutine;
    private Timer watchdog;
    /** nanoTime of the last activity: the last echo written (or the accept). */
    private long lastActive;
    /** The loop's turn count when the last echo was written (see watch). */
    private long lastActiveTurn;
    /** nanoTime when the current write began, 0 when not writing (kept only with a watchdog). */
    private long writingSince;
    /** The watchdog looked during the current write, so it is set for the write deadline. */
    private boolean watchedWrite;
    private boolean reading;
    /** A drain found nothing more to read while the peer's side was still open: linger before closing. */
    private boolean drainedFirst;
    /** Why the server closed it (timeouts, shutdown), or null while the peer decides. */
    private String closedBy;
    /** Whom it serves, in logs and per-source counts: the PROXY header's client, else the peer; null until looked up. */
    private InetSocketAddress remote;
    /** The socket's peer (under --proxy-protocol, the balancer), when looked up. */
    private InetSocketAddress peer;
    /** What the PROXY header was ("PROXY v2"), or null without one. */
    private String headerKind;
    /** The PROXY header is still awaited; the watchdog applies headerDeadline alone meanwhile. */
    private boolean awaitingHeader;
    private long headerDeadline;
    /** The --max-connections-per-source slot held (the SourceLimit key), or null. */
    private InetAddress sourceKey;

    EchoConnection(Worker worker, TcpStream stream) {
        this.worker = worker;
        this.stream = stream;
    }

    void start() {
        coroutine = Coroutine.spawn(worker.loop, "conn", this);
    }

    /** The connection's coroutine (its body itself, not a method reference to it: one frame less). */
    @Override
    public void run() {
        boolean header = worker.headerTimeoutNanos > 0;
        if (worker.watchdogPeriodNanos > 0 || header) {
            lastActive = System.nanoTime();
            watchdog = worker.loop.timers().newTimer(this::watch);
            awaitingHeader = header;
            headerDeadline = lastActive + worker.headerTimeoutNanos;
            watchdog.reschedule(header ? headerDeadline : lastActive + worker.watchdogPeriodNanos);
        }
        MemorySegment buf = worker.loop.scratch();
        boolean debug = LOG.isLoggable(System.Logger.Level.DEBUG);
        try (stream) {
            int early = admit(buf, debug);
            if (early < 0) {
                return; // refused (counted and logged) or drained: closed with nothing echoed
            }
            if (early > 0) {
                echo(buf, early); // what followed the PROXY header in its segment, before any read
            }
            for (int batch = FIRST_ROUND_TRIPS; echoSome(buf, batch); batch = Math.min(4 * batch, MAX_ROUND_TRIPS)) {
                // batches of round trips, growing: see echoSome
            }
            // The peer shut down its side (or we drained) and has every byte back: now ours, then close.
            stream.shutdownOutput();
            if (drainedFirst) {
                linger(buf);
            }
        } catch (IOException e) {
            ended(e);
        } finally {
            if (watchdog != null) {
                watchdog.cancel();
            }
            if (sourceKey != null) {
                worker.sources.release(sourceKey);
            }
            worker.connectionEnded(this);
            if (debug) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: closed", LogField.connection(stream));
            }
        }
    }

    /**
     * Up to count reads and their echoes; false once the peer has shut down its side. A method of its
     * own, not the body of run's loop, for the JIT's and the continuation's sake: a suspended
     * coroutine's frames stay what they were when they began (interpreted, or compiled at some tier)
     * until they return, and while any of them is interpreted, every suspension and resumption of
     * that coroutine takes the continuation's slow path.
     *
     * <p>run's frame lives as long as the connection; echoSome's returns every so often, so the
     * next call runs the JIT's newest code. But a return to run also costs the connection a new
     * stack chunk (about 900 bytes: run's frame comes back from a chunk the collector has moved,
     * which the next suspension cannot reuse), and at 10,000 connections returns every 64 round trips
     * kept G1's young collections going; each collection moves every live chunk, and each moved
     * chunk costs its connection a slow thaw and yet another chunk. So the calls grow fourfold, from
     * 1 round trip to {@link #MAX_ROUND_TRIPS}: in steady state an echo allocates nothing.
     *
     * <p>Why the first call does a single round trip: the JIT compiles this method once thousands
     * of first calls have begun. Had none of them ended yet, the loop's exit would look unreachable
     * and the compiled code would trap there, sending every connection's next call back to the
     * interpreter for a whole (by then long) batch: measured at 10,000 connections with a first
     * batch of 64 and of 4 (10,000 deoptimisations, 6-7 % of the CPU on the slow path). A first
     * call that ends at once puts the exit in the profile before the compiler looks.
     */
    private boolean echoSome(MemorySegment buf, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            int n = receive(buf);
            if (n < 0) {
                return false;
            }
            echo(buf, n);
        }
        return true;
    }

    /**
     * Writes back buf[0, n), counted and timed. One clock read per echo: the write's start, which is
     * also its end unless the write waited, that is unless the loop turned meanwhile (a write that
     * waits resumes in a later turn); only then is the clock read again.
     */
    private void echo(MemorySegment buf, int n) throws IOException {
        worker.bytesIn += n;
        if (watchdog == null) {
            stream.write(buf, n);
        } else {
            LoopStats stats = worker.loop.stats();
            long turn = stats.turns();
            long start = System.nanoTime();
            writingSince = start;
            stream.write(buf, n);
            long after = stats.turns();
            wrote(after == turn ? start : System.nanoTime(), after);
        }
        worker.bytesOut += n;
    }

    /**
     * Admission, before any echo. Under --proxy-protocol the peer must be in --proxy-trusted and send
     * a valid header, whose client then stands for the connection; with --max-connections-per-source
     * that client (or the peer) must have fewer than the limit open, across all loops. Returns how
     * many bytes followed the header in its reads, moved to buf[0, n) to be echoed first; or -1 when
     * the connection is refused (counted, logged at DEBUG; the caller closes it) or drained meanwhile.
     */
    private int admit(MemorySegment buf, boolean debug) throws IOException {
        if (!worker.proxy.enabled() && worker.sources == null) {
            if (debug) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: accepted from {1}", LogField.connection(stream),
                        LogField.remote(stream.remoteAddress()));
            }
            return 0;
        }
        // Looked up once per connection (an allocation, at admission only).
        peer = stream.remoteAddress();
        if (peer == null) {
            return -1; // closed before we looked: nothing to serve
        }
        remote = peer;
        int early = 0;
        if (worker.proxy.enabled()) {
            if (!worker.proxy.trusted().contains(peer.getAddress())) {
                worker.server.untrustedPeer(peer);
                return refuse(ProxyRejection.UNTRUSTED, "not in --proxy-trusted");
            }
            early = readProxyHeader(buf);
            if (early < 0) {
                return -1;
            }
            headerDone();
        }
        if (worker.sources != null) {
            sourceKey = worker.sources.tryAcquire(remote.getAddress());
            if (sourceKey == null) {
                worker.sourceLimited++;
                if (debug) {
                    LOG.log(System.Logger.Level.DEBUG, "{0}: from {1}, closed at once ({2})", LogField.connection(stream),
                            LogField.remote(remote), LogField.reason("--max-connections-per-source " + worker.sources.max() + " open"));
                }
                return -1;
            }
        }
        if (debug) {
            if (headerKind == null) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: accepted from {1}", LogField.connection(stream), LogField.remote(remote));
            } else {
                LOG.log(System.Logger.Level.DEBUG, "{0}: accepted from {1} ({2} via {3})", LogField.connection(stream),
                        LogField.remote(remote), headerKind, LogField.proxy(peer));
            }
        }
        return early;
    }

    /**
     * Reads the PROXY header into the loop's scratch buffer and parses it there, in place. Returns
     * the count of bytes that followed it, moved to buf[0, n); -1 if refused or drained.
     *
     * <p>A header split over several reads (rare: balancers send it in one segment) cannot wait in the
     * scratch buffer, which the loop's other connections read into meanwhile: its first bytes are kept
     * in a small array of this connection's own (at most {@link ProxyHeaderParser#MAX_INCOMPLETE}
     * bytes) and put back in front of the next read. A long v2 header (TLVs) needs no keeping: once
     * the parser has its addresses, the rest is read and dropped.
     */
    private int readProxyHeader(MemorySegment buf) throws IOException {
        byte[] kept = null;
        int have = 0;
        while (true) {
            if (have > 0) {
                MemorySegment.copy(kept, 0, buf, ValueLayout.JAVA_BYTE, 0, have);
            }
            int n = headerRead(have == 0 ? buf : buf.asSlice(have));
            if (n == DRAINED) {
                return -1;
            }
            if (n < 0) {
                return refuse(ProxyRejection.TRUNCATED, "closed before the header was complete");
            }
            int total = have + n;
            ProxyHeaderParser parser = worker.proxyParser;
            int length = parser.parse(buf, total);
            if (length == ProxyHeaderParser.INCOMPLETE) {
                if (kept == null) {
                    kept = new byte[ProxyHeaderParser.MAX_INCOMPLETE];
                }
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, kept, 0, total);
                have = total;
                incomplete(have);
                continue;
            }
            if (length == ProxyHeaderParser.REJECTED) {
                return refuse(parser.rejection(), parser.problem());
            }
            // Take the results now: the parser is the loop's, and the next read may suspend.
            headerKind = parser.kind();
            if (!parser.local()) {
                remote = parser.source();
            }
            if (length <= total) {
                MemorySegment.copy(buf, length, buf, 0, total - length);
                return total - length;
            }
            return skipHeader(buf, length, length - total);
        }
    }

    /**
     * Reads and drops the rest of a long v2 header (skip of its length bytes); returns what follows
     * it, at buf[0, n), or -1.
     */
    private int skipHeader(MemorySegment buf, int length, int skip) throws IOException {
        while (true) {
            incomplete(length - skip);
            int n = headerRead(buf);
            if (n == DRAINED) {
                return -1;
            }
            if (n < 0) {
                return refuse(ProxyRejection.TRUNCATED, "closed before the header was complete");
            }
            if (n <= skip) {
                skip -= n;
                if (skip == 0) {
                    return 0;
                }
                continue;
            }
            MemorySegment.copy(buf, skip, buf, 0, n - skip);
            return n - skip;
        }
    }

    /**
     * A read while the header is awaited: the count, -1 at the peer's EOF or reset, or
     * {@link #DRAINED}. A drain wakes it as it wakes an echo's read (see {@link #drain}).
     */
    private int headerRead(MemorySegment dst) throws IOException {
        if (worker.draining) {
            return DRAINED;
        }
        reading = true;
        try {
            return stream.read(dst);
        } catch (RuntimeException e) {
            if (e != DRAIN) {
                throw e;
            }
            return DRAINED;
        } catch (IOException e) {
            if (closedBy == null && Disconnects.isPeerGone(e)) {
                return -1;
            }
            throw e;
        } finally {
            reading = false;
        }
    }

    /** The header is not complete yet: says so at TRACE (tests wait for it to send the rest). */
    private void incomplete(int received) {
        if (LOG.isLoggable(System.Logger.Level.TRACE)) {
            LOG.log(System.Logger.Level.TRACE, "{0}: PROXY header incomplete after {1} bytes", LogField.connection(stream),
                    String.valueOf(received));
        }
    }

    /** The header is in: from now on the idle and write timeouts apply, counting from now. */
    private void headerDone() {
        awaitingHeader = false;
        if (watchdog != null) {
            lastActive = System.nanoTime();
            if (worker.watchdogPeriodNanos > 0) {
                watchdog.reschedule(lastActive + worker.watchdogPeriodNanos);
            } else {
                watchdog.cancel();
                watchdog = null;
            }
        }
    }

    /** Counts a refusal and says so at DEBUG; returns -1 for admit's caller. */
    private int refuse(ProxyRejection why, String problem) {
        worker.proxyRejected[why.ordinal()]++;
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: from {1}, refused, PROXY header {2} ({3})", LogField.connection(stream),
                    LogField.remote(peer), LogField.reason(why.label()), problem);
        }
        return -1;
    }

    /** Reads, or while draining takes only what has already arrived (-1 when that is all). */
    private int receive(MemorySegment buf) throws IOException {
        if (worker.draining) {
            return drainRead(buf);
        }
        reading = true;
        try {
            return stream.read(buf); // activity is stamped when its echo is written (see wrote)
        } catch (RuntimeException e) {
            if (e != DRAIN) {
                throw e;
            }
            return drainRead(buf);
        } finally {
            reading = false;
        }
    }

    private int drainRead(MemorySegment buf) throws IOException {
        int n = stream.readNow(buf);
        if (n == 0) {
            drainedFirst = true;
            return -1;
        }
        return n;
    }

    /**
     * The lingering close, after a drain: our FIN is queued behind the echo, but the peer may still be
     * sending. Linux answers data for a socket closed by the application with a reset, and so does
     * close() with unread data queued; the reset throws away the echo the kernel has not delivered
     * yet. So read and discard (it arrived after the drain) until the peer's EOF, its reset, or
     * {@link ServerConfig#DRAIN_LINGER}; then close. The shutdown timeout still cuts a connection that lingers.
     */
    private void linger(MemorySegment buf) throws IOException {
        // Allocates a timer and a lambda: once per connection, at shutdown only.
        Timer over = worker.loop.schedule(ServerConfig.DRAIN_LINGER, () -> coroutine.interrupt(LINGER_OVER));
        try {
            while (stream.read(buf) >= 0) {
                // discarded
            }
        } catch (RuntimeException e) {
            if (e != LINGER_OVER) {
                throw e;
            }
        } finally {
            over.cancel();
        }
    }

    /** Asked to drain: a connection waiting for input has nothing in flight, so wake it to finish. */
    void drain() {
        if (reading) {
            coroutine.interrupt(DRAIN);
        }
    }

    /** The shutdown timeout passed: close now. */
    void cut() {
        closeBy("shutdown");
    }

    /**
     * An echo write completed: that is activity, the same as on the blocking engines (a read is
     * always followed by its echo, so this stamp covers it). If the watchdog looked while the write
     * waited, it moved on to the write deadline, which may lie far beyond the idle deadline that
     * counts from now: bring it back. Loop thread, on the hot path: no allocation.
     *
     * <p>now is a clock read of this echo's own (see echo), not a time cached per loop turn (tried):
     * a stall inside a turn (SIGSTOP, a long GC pause) would date this echo before the stall, and the
     * watchdog would then reap a connection that had just been served (ProcessPauseIT failed so on
     * io_uring).
     */
    private void wrote(long now, long turn) {
        lastActive = now;
        lastActiveTurn = turn;
        writingSince = 0;
        if (watchedWrite) {
            watchedWrite = false;
            watchdog.reschedule(lastActive + worker.watchdogPeriodNanos);
        }
    }

    private void watch() {
        long now = System.nanoTime();
        if (awaitingHeader) {
            if (now - headerDeadline >= 0) {
                worker.proxyRejected[ProxyRejection.TIMEOUT.ordinal()]++;
                closeBy("refused, PROXY header timeout: not complete within --proxy-header-timeout");
            } else {
                watchdog.reschedule(headerDeadline);
            }
            return;
        }
        // An echo the stream queued (io_uring) that then had to wait for the peer is a write that
        // waits since it was queued, which is when its echo stamped lastActive.
        boolean queuedWait = writingSince == 0 && stream.writeWaiting();
        if (watchedWrite && writingSince == 0 && !queuedWait) {
            // A queued wait ended with no echo since (wrote() would have seen it): idleness counts from now.
            watchedWrite = false;
            lastActive = now;
        }
        long writing = queuedWait ? lastActive : writingSince;
        long active = lastActive;
        LoopStats stats = worker.loop.stats();
        if (stats.turns() - lastActiveTurn <= 1) {
            // The last echo was written in this turn or the one before. A transport that queues
            // writes (io_uring) sends their bytes only in the next poll, and a stall of the whole
            // process (SIGSTOP) in between would make the connection look idle for the length of the
            // stall: its activity is then that poll's start, if later (ProcessPauseIT).
            active = Math.max(active, stats.pollStartedNanos());
        }
        if (writing != 0) {
            if (worker.writeTimeoutNanos > 0 && now - writing >= worker.writeTimeoutNanos) {
                worker.writeTimeouts++;
                closeBy("write timeout");
                return;
            }
            // A write waiting for the peer is not idleness: only the write timeout applies to it.
            watchedWrite = true;
        } else if (worker.idleTimeoutNanos > 0 && now - active >= worker.idleTimeoutNanos) {
            if (!stream.inputPending()) {
                worker.idleTimeouts++;
                closeBy("idle timeout");
                return;
            }
            // The peer's bytes wait unread: the loop is behind, not the peer idle. After a stall of
            // the process a loop can take more than one turn to deliver what came meanwhile (an
            // io_uring enter runs a bounded share of the kernel's deferred completions, an epoll_wait
            // returns a bounded batch), and this look may come between (ProcessPauseIT).
            active = now;
        }
        // Next look: exactly when this connection could expire, or a period from now if the
        // timeout that applies is off (the other may start to apply meanwhile). A queued wait's end
        // is seen only by a look, so it is looked at within a period.
        long next;
        if (writing != 0) {
            next = worker.writeTimeoutNanos > 0 ? writing + worker.writeTimeoutNanos : now + worker.watchdogPeriodNanos;
            if (queuedWait) {
                next = Math.min(next, now + worker.watchdogPeriodNanos);
            }
        } else {
            next = worker.idleTimeoutNanos > 0 ? active + worker.idleTimeoutNanos : now + worker.watchdogPeriodNanos;
        }
        watchdog.reschedule(Math.max(next, now + 1_000_000L));
    }

    private void closeBy(String reason) {
        if (closedBy == null) {
            closedBy = reason;
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: closing ({1})", LogField.connection(stream), LogField.reason(reason));
            }
            stream.close();
        }
    }

    private void ended(IOException e) {
        if (closedBy != null && e instanceof ClosedChannelException) {
            return; // we closed it ourselves, and said so
        }
        if (Disconnects.isPeerGone(e)) {
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: peer went away ({1})", LogField.connection(stream),
                        LogField.reason(e.getMessage()));
            }
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "{0} from {1}: connection failed: {2}", LogField.connection(stream),
                LogField.remote(remote != null ? remote : stream.remoteAddress()), LogField.reason(e.toString()));
    }

    boolean isClosedByServer() {
        return closedBy != null;
    }
}
