package io.coecho.examples.forwarder;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Disconnects;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;

/**
 * One forwarded connection: the client's stream, the stream opened to the target for it, and one
 * {@link Direction} copying each way, each in its own coroutine. When one side shuts down its
 * sending side, the copy from it passes that on and ends while the other goes on (half-close); the
 * link closes both streams once both copies have ended, or as soon as either fails.
 *
 * <p>Loop thread only (its two coroutines). Lifecycle: CONNECTING → FORWARDING → CLOSED.
 */
final class Link {
    private static final System.Logger LOG = System.getLogger(Link.class.getName());

    private final TcpStream client;
    private final TcpStream server;
    private int copying = 2;
    private boolean closed;

    private Link(TcpStream client, TcpStream server) {
        this.client = client;
        this.server = server;
    }

    /**
     * Runs in the client's coroutine: connects to target, then copies target → client in a second
     * coroutine and client → target in this one. A target that cannot be reached closes the client.
     */
    static void open(Transport transport, EventLoop loop, TcpStream client, InetSocketAddress target) {
        TcpStream server;
        try {
            server = transport.connect(loop, target);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.INFO, "{0}: cannot reach {1}: {2}", client, target, e.getMessage());
            client.close();
            return;
        }
        Link link = new Link(client, server);
        Direction down = new Direction(server, client, Forwarder.BUFFER_SIZE);
        Coroutine.spawn(loop, client + " <- " + target, () -> link.copy(down));
        link.copy(new Direction(client, server, Forwarder.BUFFER_SIZE));
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
            return; // the other direction failed first and closed this one's streams
        }
        System.Logger.Level level = Disconnects.isPeerGone(e) ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
        LOG.log(level, "{0}: {1} failed: {2}", client, direction, e.toString());
        close(); // one side is gone: so is the link, both ways
    }

    private void close() {
        if (!closed) {
            closed = true;
            client.close();
            server.close();
        }
    }
}
