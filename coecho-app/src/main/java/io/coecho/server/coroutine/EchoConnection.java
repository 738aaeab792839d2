package io.coecho.server.coroutine;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Disconnects;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.timer.Timer;
import io.coecho.server.LogField;
import io.coecho.server.ServerConfig;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;

/**
 * One client connection on the coroutine engine: the seed's {@code handle_connection}, a loop of
 * read and write-back that reads like blocking code, plus what production needs around it.
 *
 * <ul>
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
final class EchoConnection {
    private static final System.Logger LOG = System.getLogger(EchoConnection.class.getName());

    /** Thrown into a connection waiting in read when the server starts draining. */
    static final RuntimeException DRAIN = new RuntimeException("draining", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    /** Thrown into a lingering connection when its time is up. */
    private static final RuntimeException LINGER_OVER = new RuntimeException("linger over", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    private static final int ROUND_TRIPS_PER_CALL = 64;

    private final Worker worker;
    private final TcpStream stream;
    private Coroutine coroutine;
    private Timer watchdog;
    /** nanoTime of the last activity: the last echo written (or the accept). */
    private long lastActive;
    /** nanoTime when the current write began, 0 when not writing (kept only with a watchdog). */
    private long writingSince;
    /** The watchdog looked during the current write, so it is set for the write deadline. */
    private boolean watchedWrite;
    private boolean reading;
    /** A drain found nothing more to read while the peer's side was still open: linger before closing. */
    private boolean drainedFirst;
    /** Why the server closed it (timeouts, shutdown), or null while the peer decides. */
    private String closedBy;

    EchoConnection(Worker worker, TcpStream stream) {
        this.worker = worker;
        this.stream = stream;
    }

    void start() {
        coroutine = Coroutine.spawn(worker.loop, "conn", this::serve);
    }

    private void serve() {
        if (worker.watchdogPeriodNanos > 0) {
            lastActive = System.nanoTime();
            watchdog = worker.loop.timers().newTimer(this::watch);
            watchdog.reschedule(lastActive + worker.watchdogPeriodNanos);
        }
        MemorySegment buf = worker.loop.scratch();
        boolean debug = LOG.isLoggable(System.Logger.Level.DEBUG);
        if (debug) {
            LOG.log(System.Logger.Level.DEBUG, "{0}: accepted from {1}", LogField.connection(stream),
                    LogField.remote(stream.remoteAddress()));
        }
        try (stream) {
            while (echoSome(buf)) {
                // a batch of round trips per call: see echoSome
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
            worker.connectionEnded(this);
            if (debug) {
                LOG.log(System.Logger.Level.DEBUG, "{0}: closed", LogField.connection(stream));
            }
        }
    }

    /**
     * Up to {@link #ROUND_TRIPS_PER_CALL} reads and their echoes; false once the peer has shut down
     * its side. A method of its own, not the body of serve's loop, for the JIT's sake: serve's frame
     * lives as long as the connection, and a frame that began in the interpreter reaches optimised
     * code only by on-stack replacement, one frame at a time, which with thousands of connections
     * takes minutes; meanwhile every suspension of such a coroutine takes the continuation's slow
     * path. A method called again and again is compiled normally and new calls use the optimised
     * code; returning only every few dozen round trips keeps serve's frame out of the suspend and
     * resume copies in between.
     */
    private boolean echoSome(MemorySegment buf) throws IOException {
        for (int i = 0; i < ROUND_TRIPS_PER_CALL; i++) {
            int n = receive(buf);
            if (n < 0) {
                return false;
            }
            worker.bytesIn += n;
            if (watchdog != null) {
                writingSince = System.nanoTime();
            }
            stream.write(buf.asSlice(0, n));
            if (watchdog != null) {
                wrote();
            }
            worker.bytesOut += n;
        }
        return true;
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
     */
    private void wrote() {
        lastActive = System.nanoTime();
        writingSince = 0;
        if (watchedWrite) {
            watchedWrite = false;
            watchdog.reschedule(lastActive + worker.watchdogPeriodNanos);
        }
    }

    private void watch() {
        long now = System.nanoTime();
        if (writingSince != 0) {
            if (worker.writeTimeoutNanos > 0 && now - writingSince >= worker.writeTimeoutNanos) {
                worker.writeTimeouts++;
                closeBy("write timeout");
                return;
            }
            // A write waiting for the peer is not idleness: only the write timeout applies to it.
            watchedWrite = true;
        } else if (worker.idleTimeoutNanos > 0 && now - lastActive >= worker.idleTimeoutNanos) {
            worker.idleTimeouts++;
            closeBy("idle timeout");
            return;
        }
        // Next look: exactly when this connection could expire, or a period from now if the
        // timeout that applies is off (the other may start to apply meanwhile).
        long next;
        if (writingSince != 0) {
            next = worker.writeTimeoutNanos > 0 ? writingSince + worker.writeTimeoutNanos : now + worker.watchdogPeriodNanos;
        } else {
            next = worker.idleTimeoutNanos > 0 ? lastActive + worker.idleTimeoutNanos : now + worker.watchdogPeriodNanos;
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
                LogField.remote(stream.remoteAddress()), LogField.reason(e.toString()));
    }

    boolean isClosedByServer() {
        return closedBy != null;
    }
}
