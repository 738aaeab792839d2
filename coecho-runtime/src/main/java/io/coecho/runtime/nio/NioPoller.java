package io.coecho.runtime.nio;

import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.Poller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;

/**
 * A java.nio {@link Selector} as a {@link Poller}: the portable twin of the epoll poller. Each
 * channel is registered once, with no interest, and deregistered when it is closed.
 *
 * <p>A Selector is level-triggered, so unlike the epoll poller's standing edge-triggered input
 * interest, a channel's interest is set only while a coroutine waits on it and cleared as soon as
 * that coroutine wakes ({@link NioRegistration}): a connection with unread input that is busy writing
 * would otherwise be reported on every select, and the loop would spin (the seed's pitfalls 2 and 4).
 * Interest changes cost no syscall: the Selector queues them and applies the net change at its next
 * select, so a coroutine that wakes, works and waits again in the same turn changes nothing.
 *
 * <p>No generation numbers are needed: a key is an object, never reused, and a key cancelled
 * earlier in the same dispatch is no longer valid.
 *
 * <p>Loop thread only, except {@link #wakeup()}.
 */
final class NioPoller implements Poller {
    private static final System.Logger LOG = System.getLogger(NioPoller.class.getName());

    private final EventLoop loop;
    private final Selector selector;
    private boolean dispatching;
    private boolean flushPending;
    /** Set when close() begins: from then on nothing registers (see close). */
    private boolean closing;
    private final MemorySegment scratch;
    /** The loop's scratch segment as a ByteBuffer, made once: reads into it happen at every turn. */
    private final ByteBuffer scratchBuffer;

    public NioPoller(EventLoop loop) {
        this.loop = loop;
        this.scratch = loop.scratch();
        this.scratchBuffer = scratch.asByteBuffer();
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public EventLoop loop() {
        return loop;
    }

    /**
     * Adds a non-blocking channel, with no interest yet. Loop thread only. Throws
     * ClosedChannelException once the poller is closing; the caller still owns the channel.
     */
    NioRegistration register(SelectableChannel channel) throws IOException {
        if (closing) {
            throw new ClosedChannelException();
        }
        SelectionKey key = channel.register(selector, 0);
        NioRegistration reg = new NioRegistration(this, channel, key);
        key.attach(reg);
        return reg;
    }

    /**
     * segment as a ByteBuffer spanning all of it. Native segments give direct buffers, which the
     * channel reads into and writes from without a copy.
     */
    ByteBuffer buffer(MemorySegment segment) {
        return buffer(segment, segment.byteSize());
    }

    /**
     * segment[0, length) as a ByteBuffer. For the loop's scratch buffer (which the echo reads into
     * and writes back from) that is the scratch's own view, limited, instead of a new ByteBuffer per
     * call: an allocation on every echo otherwise.
     */
    ByteBuffer buffer(MemorySegment segment, long length) {
        if (segment.address() == scratch.address() && length <= scratch.byteSize()
                && segment.scope().equals(scratch.scope())) {
            return scratchBuffer.clear().limit((int) length);
        }
        return segment.asSlice(0, length).asByteBuffer();
    }

    @Override
    public int poll(int timeoutMillis) throws IOException {
        // A Selector returns at once while its thread's interrupt flag is set, so a stray interrupt
        // would spin the loop; the loop has no use for interrupts (epoll_wait never sees them).
        Thread.interrupted();
        if (timeoutMillis < 0) {
            return selector.select();
        }
        return timeoutMillis == 0 ? selector.selectNow() : selector.select(timeoutMillis);
    }

    @Override
    public void dispatch(int count) {
        // The set, not count: a flush (below) may have added keys that no poll has counted.
        if (selector.selectedKeys().isEmpty()) {
            return;
        }
        dispatching = true;
        try {
            dispatchSelected();
        } finally {
            dispatching = false;
            if (flushPending) {
                flushPending = false;
                flushCancelled();
            }
        }
    }

    /**
     * Completes now, not at the next poll, the close of channels cancelled since the last poll: a
     * Selector defers the real close of a registered channel until its next selection, and a
     * listener must stop taking connections when it is closed, not a moment later. Keys this
     * selects stay in the selected set for the next dispatch. Loop thread only.
     */
    void flushCancelled() {
        if (dispatching) {
            flushPending = true; // selecting now would change the set under the running dispatch
            return;
        }
        try {
            selector.selectNow();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "loop " + loop.name() + ": selectNow failed", e);
        }
    }

    private void dispatchSelected() {
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey key = it.next();
            it.remove();
            // A coroutine woken earlier in this batch may have closed this channel.
            if (!key.isValid()) {
                continue;
            }
            try {
                ((NioRegistration) key.attachment()).ready(key.readyOps());
            } catch (RuntimeException | Error e) {
                // A coroutine's own failures end inside the coroutine; this is a runtime bug.
                // Keep dispatching the rest of the batch rather than lose their wake-ups.
                LOG.log(System.Logger.Level.ERROR, "loop " + loop.name() + ": dispatch for " + key.channel() + " failed", e);
            }
        }
    }

    @Override
    public void wakeup() {
        // Safe against close(): a closed Selector's wakeup does nothing (the JDK locks the two
        // against each other), so no lock of our own as in the epoll poller.
        selector.wakeup();
    }

    @Override
    public void close() {
        // Closing a registration wakes its coroutine at once, which may open and register another
        // channel (a client that reconnects, say) after the keys were copied: refused, it cannot
        // outlive the loop (closing the Selector would deregister it but leave it open).
        closing = true;
        for (SelectionKey key : selector.keys().toArray(new SelectionKey[0])) {
            if (key.attachment() instanceof NioRegistration reg) {
                reg.close();
            }
        }
        try {
            // Also releases the sockets whose close the Selector had deferred (see NioRegistration).
            selector.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "loop " + loop.name() + ": closing the selector failed", e);
        }
    }
}
