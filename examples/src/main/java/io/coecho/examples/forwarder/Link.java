package io.coecho.examples.forwarder;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Disconnects;
import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * One forwarded connection: the client's stream, the stream opened to the target for it, and one
 * {@link Direction} copying each way, each in its own coroutine. When one side shuts down its
 * sending side, the copy from it passes that on and ends while the other goes on (half-close); the
 * link closes both streams once both copies have ended, or as soon as either fails or a toxic cuts
 * it ({@link #close}: a FIN each way; {@link #reset}: an RST each way).
 *
 * <p>Loop thread only (its two coroutines). Lifecycle: CONNECTING → FORWARDING → CLOSED.
 */
final class Link {
    private static final System.Logger LOG = System.getLogger(Link.class.getName());

    private final Forwarder forwarder;
    private final TcpStream client;
    private final TcpStream server;
    private Direction up;
    private Direction down;
    private int copying = 2;
    private boolean closed;

    private Link(Forwarder forwarder, TcpStream client, TcpStream server) {
        this.forwarder = forwarder;
        this.client = client;
        this.server = server;
    }

    /**
     * Runs in the client's coroutine: connects to the forwarder's target, then copies target → client
     * in a second coroutine and client → target in this one. A target that cannot be reached closes
     * the client.
     */
    static void open(Forwarder forwarder, TcpStream client) {
        TcpStream server;
        try {
            server = forwarder.transport().connect(forwarder.loop(), forwarder.target());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.INFO, "{0}: cannot reach {1}: {2}", client, forwarder.target(), e.getMessage());
            client.close();
            return;
        }
        Link link = new Link(forwarder, client, server);
        link.up = new Direction(link, client, server, forwarder::upstream, forwarder.newRandom(), Forwarder.BUFFER_SIZE);
        link.down = new Direction(link, server, client, forwarder::downstream, forwarder.newRandom(), Forwarder.BUFFER_SIZE);
        forwarder.opened(link);
        Coroutine.spawn(forwarder.loop(), client + " <- " + forwarder.target(), () -> link.copy(link.down));
        link.copy(link.up);
    }

    private void copy(Direction direction) {
        try {
            direction.run();
        } catch (IOException e) {
            failed(direction, e);
        } finally {
            if (--copying == 0) {
                close();
            }
        }
    }

    private void failed(Direction direction, IOException e) {
        if (closed && e instanceof ClosedChannelException) {
            return; // the other direction failed first, or a toxic cut the link, and closed this one's streams
        }
        // A stream closed under a live link: the forwarder is closing, and its loop closes what is left.
        System.Logger.Level level = Disconnects.isPeerGone(e) || e instanceof ClosedChannelException
                ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
        LOG.log(level, "{0}: {1} failed: {2}", client, direction, e.toString());
        close(); // one side is gone: so is the link, both ways
    }

    boolean isClosed() {
        return closed;
    }

    /** A direction of this link starts or stops being held by a blackhole. */
    void holding(Direction direction, boolean held) {
        forwarder.holding(direction, held);
    }

    /** Closes both streams (a FIN each way, or an RST where unread data is left). Idempotent. */
    void close() {
        end(false);
    }

    /** Resets both streams: an RST each way, unsent data dropped. Idempotent. */
    void reset() {
        end(true);
    }

    private void end(boolean reset) {
        if (closed) {
            return;
        }
        closed = true;
        if (reset) {
            client.reset();
            server.reset();
        } else {
            client.close();
            server.close();
        }
        up.wake(); // a direction held by a blackhole waits on no stream: tell it
        down.wake();
        forwarder.closed(this);
    }
}
