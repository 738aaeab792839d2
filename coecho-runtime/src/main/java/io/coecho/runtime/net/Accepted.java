package io.coecho.runtime.net;

import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;

/**
 * A connection taken from a listener but not yet tied to any loop. Where the kernel cannot spread
 * connections over the loops (no SO_REUSEPORT), one acceptor takes them all and deals them out: it
 * hands each {@code Accepted} to the loop that will serve it, which attaches it there. Connections
 * never move once attached.
 *
 * <p>Threading: created on the acceptor's loop; {@link #attach} runs on the target loop's thread.
 * Exactly one of {@link #attach} or {@link #close} is called.
 */
public interface Accepted {
    /** Registers the connection with loop, whose thread must be the caller's. */
    TcpStream attach(EventLoop loop) throws IOException;

    /** Closes a connection that will not be attached (say, the server is draining). */
    void close();
}
