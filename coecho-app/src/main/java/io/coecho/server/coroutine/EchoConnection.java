package io.coecho.server.coroutine;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Disconnects;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.timer.Timer;
import io.coecho.server.LogField;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;

/**
 * One client connection on the coroutine engine: the seed's {@code handle_connection}, a loop of
 * read and write-back that reads like blocking code, plus what production needs around it.
 *
 * <ul>
 *   <li>Memory: it reads into the loop's shared scratch buffer; only when the peer is slow does the
 *       stream borrow a buffer for the unsent rest, so an idle connection holds no buffer at all.
 *   <li>Flow control: while a write waits for the peer to read, the connection reads nothing more.
 *   <li>Half-close: at the peer's EOF it has echoed everything, so it shuts down its side and closes.
 *   <li>Timeouts: one watchdog timer per connection, moved lazily (a read only stamps a time), for
 *       idleness and for a peer that stops reading its echo.
 *   <li>Graceful shutdown: when draining, it echoes what has already arrived, then closes.
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

    private static final int ROUND_TRIPS_PER_CALL = 64;

    private final Worker worker;
    private final TcpStream stream;
    private Coroutine coroutine;
    private Timer watchdog;
    private long lastActive;
    /** nanoTime when the current write began, 0 when not writing. */
    private long writingSince;
    private boolean reading;
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
            // The peer shut down its side and has every byte back: now ours, then close.
            stream.shutdownOutput();
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
            writingSince = System.nanoTime();
            stream.write(buf.asSlice(0, n));
            writingSince = 0;
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
            int n = stream.read(buf);
            if (watchdog != null) {
                lastActive = System.nanoTime();
            }
            return n;
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
        return n == 0 ? -1 : n;
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

    private void watch() {
        long now = System.nanoTime();
        if (writingSince != 0) {
            if (worker.writeTimeoutNanos > 0 && now - writingSince >= worker.writeTimeoutNanos) {
                worker.writeTimeouts++;
                closeBy("write timeout");
                return;
            }
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
