package io.coecho.loadgen;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.timer.Timer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.ClosedChannelException;

/**
 * One connection of a load run: a writer coroutine that sends messages (as fast as the pipeline
 * allows, or on an open-loop schedule) and a reader coroutine that checks every echoed byte and
 * times each message. TcpStream allows one reader and one writer to wait at once, so a large
 * message can be read back while it is still being written.
 *
 * <p>Message k is stream bytes [k·size, (k+1)·size) of the connection's {@link Payload}; its start
 * time sits in a ring of pipeline slots, safe because at most pipeline messages are in flight. In
 * an open loop the start time is the <em>intended</em> send time, so a stall that delays sending
 * is charged to latency (no coordinated omission).
 *
 * <p>With --reconnect, a close by the server at a message boundary (every byte of the answered
 * messages back, nothing of the next) is not the end: the reader opens a new connection and the
 * stream goes on from the first unanswered message, which is sent again. That is what a draining
 * server does to a connection idle between messages, and, like an HTTP client retrying on a
 * keep-alive connection the server closed, the client cannot tell whether the server saw the
 * message it had just sent: nothing of it came back, so sending it again is safe for an echo.
 *
 * <p>Loop thread only. Lifecycle: NEW → connected → RUNNING (both coroutines; with --reconnect,
 * RUNNING → REOPENING → RUNNING on a new stream) → STOPPING (run over: no new messages, waits for
 * echoes in flight) → CLOSED, by the run's end, the grace deadline, or the first failure.
 */
final class ClientConnection implements LoadClient {
    private static final int MESSAGES_PER_CALL = 64;

    final int id;
    private final ClientLoop share;
    private final Payload payload;
    private final long size;
    private final int pipeline;
    private final long[] startTimes;
    TcpStream stream;
    private Coroutine writer;
    private boolean writerWaiting;
    private Timer pacer;
    private int coroutines;

    private int inFlight;
    private long sent;
    private long received;
    private long completed;
    private long nextBoundary;
    /** Had an echo owed to it at some moment of the measured window. */
    private boolean owed;
    /** Got at least one byte back since the measured window opened. */
    private boolean answered;
    private boolean closed;
    private Failure failure;

    ClientConnection(ClientLoop share, int id, int size, int pipeline) {
        this.share = share;
        this.id = id;
        this.payload = Payload.forConnection(id);
        this.size = size;
        this.pipeline = pipeline;
        this.startTimes = new long[pipeline];
        this.nextBoundary = size;
    }

    @Override
    public boolean opened() {
        return stream != null;
    }

    /** Starts the writer and the reader on the loop. */
    @Override
    public void start() {
        coroutines = 2;
        writer = Coroutine.spawn(share.loop, "bench-write-" + id, this::writeLoop);
        Coroutine.spawn(share.loop, "bench-read-" + id, this::readLoop);
    }

    private void writeLoop() {
        try {
            while (writeSome()) {
                // a batch of messages per call: see writeSome
            }
        } catch (IOException e) {
            failed(e);
        } finally {
            if (pacer != null) {
                pacer.cancel();
            }
            coroutineEnded();
        }
    }

    /**
     * Sends up to {@link #MESSAGES_PER_CALL} messages; false once the run is over. A method of its
     * own, called again and again, so that the JIT compiles it like any hot method: a coroutine's
     * outermost frame lives for the whole run and would reach optimised code only by on-stack
     * replacement, one connection at a time (see EchoConnection.echoSome).
     */
    private boolean writeSome() throws IOException {
        for (int i = 0; i < MESSAGES_PER_CALL; i++) {
            if (!writeNext()) {
                return false;
            }
        }
        return true;
    }

    /** Waits for a pipeline slot (and, open loop, the send time) and sends the next message. */
    private boolean writeNext() throws IOException {
        long intended = 0;
        double interval = share.intervalNanos;
        if (closed || share.stopping) {
            return false;
        }
        if (interval > 0) {
            long first = share.startNanos + (long) (id * share.spacingNanos);
            intended = first + (long) (sent * interval);
            if (intended - share.endNanos >= 0) {
                return false;
            }
            waitUntil(intended);
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
            intended = now;
        }
        if (now - share.warmupEndNanos >= 0) {
            owed = true;
        }
        // Count the message before writing it: its echo may start to arrive mid-write.
        startTimes[(int) (sent % pipeline)] = intended;
        inFlight++;
        long offset = sent * size;
        sent++;
        writeMessage(offset);
        return true;
    }

    private void writeMessage(long offset) throws IOException {
        TcpStream on = stream;
        long left = size;
        try {
            while (left > 0) {
                MemorySegment s = payload.slice(offset, left);
                on.write(s);
                offset += s.byteSize();
                left -= s.byteSize();
            }
        } catch (IOException e) {
            if (!share.config().reconnect() || closed) {
                throw e;
            }
            // --reconnect: the reader tells what this was. A close at a message boundary: it opens a
            // new stream and rewinds to the first unanswered message (this one too, sent again).
            // Anything else: it fails the connection and closes it.
            while (stream == on && !closed) {
                await();
            }
        }
    }

    /** Open loop: sleeps until the intended send time, on a timer reused for every message. */
    private void waitUntil(long deadline) {
        if (System.nanoTime() - deadline >= 0) {
            return;
        }
        if (pacer == null) {
            pacer = share.loop.timers().newTimer(this::wakeWriter);
        }
        pacer.reschedule(deadline);
        while (pacer.isPending() && !closed && !share.stopping) {
            await();
        }
        pacer.cancel();
    }

    private void await() {
        writerWaiting = true;
        try {
            Coroutine.suspend();
        } finally {
            writerWaiting = false;
        }
    }

    /** Wakes the writer if it waits for a slot or its next send time (not if it is inside a write). */
    void wakeWriter() {
        if (writerWaiting) {
            writer.wake();
        }
    }

    private void readLoop() {
        MemorySegment buf = share.loop.scratch();
        try {
            while (readSome(buf)) {
                // a batch of reads per call: see writeSome
            }
        } catch (IOException e) {
            failed(e);
        } finally {
            close();
            coroutineEnded();
        }
    }

    /** Up to {@link #MESSAGES_PER_CALL} reads; false when done or failed (see writeSome). */
    private boolean readSome(MemorySegment buf) throws IOException {
        for (int i = 0; i < MESSAGES_PER_CALL; i++) {
            if ((share.stopping && inFlight == 0) || closed || !readNext(buf)) {
                return false;
            }
        }
        return true;
    }

    /** Reads what has come back, checks every byte, times completed messages; false on failure. */
    private boolean readNext(MemorySegment buf) throws IOException {
        int n;
        try {
            n = stream.read(buf);
        } catch (IOException e) {
            if (closed || !share.config().reconnect() || !atBoundary() || inFlight > 0) {
                throw e; // a reset while an echo is owed stays a failure
            }
            return reopen();
        }
        if (n < 0) {
            if (share.config().reconnect() && atBoundary()) {
                return reopen();
            }
            fail(Failure.EOF, "connection " + id + ": the server closed it with "
                    + inFlight + " message(s) in flight" + (atBoundary() ? "" : ", in the middle of one"));
            return false;
        }
        // buf is the loop's shared scratch: check it now, before anything can suspend.
        long now = System.nanoTime();
        if (now - share.warmupEndNanos >= 0) {
            answered = true;
        }
        if (received + n > sent * size) {
            fail(Failure.MISMATCH, "connection " + id + ": got " + (received + n - sent * size)
                    + " byte(s) more than were sent");
            return false;
        }
        long bad = payload.mismatch(buf, n, received);
        if (bad >= 0) {
            fail(Failure.MISMATCH, "connection " + id + ": wrong byte at offset " + bad
                    + " (message " + bad / size + ", byte " + bad % size + ")");
            return false;
        }
        received += n;
        while (received >= nextBoundary) {
            share.completed(now - startTimes[(int) (completed % pipeline)], now);
            completed++;
            inFlight--;
            nextBoundary += size;
        }
        wakeWriter();
        return true;
    }

    /** Every byte of the answered messages is back and nothing of the next one. */
    private boolean atBoundary() {
        return received == nextBoundary - size;
    }

    /**
     * --reconnect: the server closed this connection at a message boundary. Opens a new one (this
     * coroutine waits for the connect) and rewinds to the first unanswered message. False when the
     * run is over, or the reconnect failed (a connect failure, counted by the loop).
     */
    private boolean reopen() {
        stream.close(); // a writer waiting on it wakes and waits for the new stream
        if (share.stopping || closed) {
            close(); // nothing more to send: what is still unanswered is not owed any more
            return false;
        }
        TcpStream fresh = share.reopen();
        if (fresh == null) {
            failure = Failure.CONNECT;
            close();
            return false;
        }
        if (closed) {
            fresh.close(); // the grace ran out while connecting
            return false;
        }
        stream = fresh;
        sent = completed;
        inFlight = 0;
        wakeWriter();
        return true;
    }

    /** The run is over: wakes a waiting writer; closes at once if no echo is owed. */
    @Override
    public void stop() {
        wakeWriter();
        if (inFlight == 0) {
            close();
        }
    }

    /** The window opened: an echo already owed counts as owed during the window. */
    @Override
    public void windowOpened() {
        if (inFlight > 0) {
            owed = true;
        }
    }

    /** Closes the connection (idempotent); its coroutines wake and end. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (stream != null) {
            stream.close();
        }
        wakeWriter();
    }

    private void failed(IOException e) {
        if (closed && e instanceof ClosedChannelException) {
            return; // we closed it: the end of the run, or a failure already counted
        }
        fail(Failure.RESET, "connection " + id + ": " + e.getMessage());
    }

    private void fail(Failure f, String detail) {
        if (failure == null) {
            failure = f;
            share.failed(f, detail);
        }
        close();
    }

    private void coroutineEnded() {
        if (--coroutines > 0) {
            return;
        }
        if (failure == null && owed && !answered) {
            failure = Failure.SILENT;
            share.failed(Failure.SILENT, "connection " + id + ": no echo during the measured run ("
                    + inFlight + " message(s) unanswered)");
        }
        share.connectionEnded(this);
    }
}
