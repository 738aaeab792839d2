package io.coecho.runtime.net;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listening TCP socket: {@link #accept()} reads like blocking code and suspends while there is no
 * connection to take. It tries the socket first, so a backlog of connections is taken one after
 * another without waiting on the poller between them.
 *
 * <p>Threading: accept from coroutines of the loop it belongs to; {@link #close()} from that loop.
 * Lifecycle: bound and listening ({@link Transport#listen}) → closed; {@link #close()} is idempotent.
 */
public interface TcpListener extends AutoCloseable {
    /** The next connection, registered with this listener's loop. */
    TcpStream accept() throws IOException;

    /**
     * The next connection, not yet registered with any loop: for an acceptor that deals connections
     * out to other loops. Waits, drains the backlog and yields like {@link #accept()}.
     */
    Accepted acceptDetached() throws IOException;

    /** The bound address, with the actual port when bound to port 0. */
    InetSocketAddress localAddress();

    /** Stops listening; a coroutine waiting in accept gets an exception. Idempotent. */
    @Override
    void close();
}
