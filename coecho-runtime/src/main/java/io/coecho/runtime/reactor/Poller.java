package io.coecho.runtime.reactor;

import java.io.IOException;

/**
 * The readiness source an {@link EventLoop} waits on: epoll on Linux, a java.nio Selector elsewhere.
 * A poller dispatches each ready event itself (to the registration it belongs to), so the loop knows
 * nothing of file descriptors or selection keys.
 *
 * <p>Owned by one loop: {@link #poll} runs on the loop thread only; {@link #wakeup} is safe from any
 * thread. Lifecycle: made with its loop, polled by it, closed when the loop ends.
 *
 * <p>Transport SPI: each transport implements one, and applications never see it (they choose a
 * transport with {@link io.coecho.runtime.TransportChoice}).
 */
public interface Poller extends AutoCloseable {
    /**
     * Waits until something is ready, a wakeup arrives, or timeoutMillis passes (-1: no limit,
     * 0: do not wait). Returns the number of ready events, to be handed to {@link #dispatch}. The
     * loop keeps the two apart so that it can tell time spent waiting from time spent working.
     */
    int poll(int timeoutMillis) throws IOException;

    /** Resumes whoever waits on the ready events that the last {@link #poll} returned. */
    void dispatch(int count);

    /** Makes a current or the next {@link #poll} return soon. Any thread. */
    void wakeup();

    /** Releases the poller and closes every registration still open on it. Loop thread only. */
    @Override
    void close();
}
