package io.coecho.runtime.nio;

import static java.nio.channels.SelectionKey.OP_ACCEPT;
import static java.nio.channels.SelectionKey.OP_CONNECT;
import static java.nio.channels.SelectionKey.OP_READ;
import static java.nio.channels.SelectionKey.OP_WRITE;

import io.coecho.runtime.coro.Coroutine;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;

/**
 * One channel on a {@link NioPoller}: who waits to read (or accept), who waits to write (or
 * connect), the interest set those waits add up to, whether the channel is closed.
 *
 * <p>Interest is armed just before a coroutine suspends and disarmed as soon as it wakes, for any
 * reason (readiness, close, timeout): the Selector is level-triggered, and interest nobody waits on
 * would make every select report the channel again (the seed's event storm).
 *
 * <p>Loop thread only. After {@link #close()} the key is cancelled, so every call site checks
 * {@link #closed} first.
 */
final class NioRegistration {
    private static final int READ_OPS = OP_READ | OP_ACCEPT;
    private static final int WRITE_OPS = OP_WRITE | OP_CONNECT;

    final NioPoller poller;
    final SelectableChannel channel;
    private final SelectionKey key;
    private Coroutine reader;
    private Coroutine writer;
    private int interest;
    boolean closed;

    NioRegistration(NioPoller poller, SelectableChannel channel, SelectionKey key) {
        this.poller = poller;
        this.channel = channel;
        this.key = key;
    }

    /** Ready operations from the Selector: on error or hang-up it reports every armed one. */
    void ready(int ops) {
        if ((ops & READ_OPS) != 0 && reader != null) {
            reader.wake();
        }
        if ((ops & WRITE_OPS) != 0 && writer != null) {
            writer.wake();
        }
    }

    void checkOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    /** Suspends the running coroutine until the channel may be readable (wake-ups may be spurious). */
    void awaitReadable() throws ClosedChannelException {
        await(OP_READ, false);
    }

    /** Suspends until a listening channel may have a connection to accept. */
    void awaitAcceptable() throws ClosedChannelException {
        await(OP_ACCEPT, false);
    }

    /** Suspends until the channel may be writable; write interest is off again on return. */
    void awaitWritable() throws ClosedChannelException {
        await(OP_WRITE, true);
    }

    /** Suspends until a pending connect may have completed (or failed). */
    void awaitConnectable() throws ClosedChannelException {
        await(OP_CONNECT, true);
    }

    private void await(int op, boolean asWriter) throws ClosedChannelException {
        checkOpen();
        Coroutine self = Coroutine.require();
        arm(interest | op);
        if (asWriter) {
            writer = self;
        } else {
            reader = self;
        }
        try {
            Coroutine.suspend();
        } finally {
            if (asWriter) {
                writer = null;
            } else {
                reader = null;
            }
            if (!closed) {
                arm(interest & ~op);
            }
        }
        checkOpen();
    }

    private void arm(int ops) {
        if (ops != interest) {
            interest = ops;
            key.interestOps(ops);
        }
    }

    /** Deregisters and closes the channel; waiters wake and find it closed. Idempotent. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // Cancels the key too. A channel registered with a Selector is really closed (its fd
            // released, the peer sent FIN) only when the Selector deregisters it, at the start of the
            // loop's next poll: soon, since the loop polls after every turn.
            channel.close();
        } catch (IOException e) {
            // Nothing to do: the socket is gone either way, and the caller is done with it.
        }
        Coroutine r = reader;
        Coroutine w = writer;
        if (r != null) {
            r.wake();
        }
        if (w != null) {
            w.wake();
        }
    }
}
