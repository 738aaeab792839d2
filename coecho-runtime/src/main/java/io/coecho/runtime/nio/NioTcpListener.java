package io.coecho.runtime.nio;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A listening ServerSocketChannel. accept takes connections until the backlog is empty and only then
 * suspends: unlike the seed, which takes one per wake-up and lets its backlog starve under load.
 * After {@link #ACCEPT_BUDGET} in a row it yields a turn, so that a connection storm cannot starve
 * the connections already open. (The JDK retries an accept the peer aborted while queued.)
 *
 * <p>Bound on any thread; registered with its loop's poller at the first accept, on the loop thread.
 */
final class NioTcpListener implements TcpListener {
    static final int ACCEPT_BUDGET = 64;

    private final NioPoller poller;
    private final ServerSocketChannel channel;
    private final InetSocketAddress local;
    private NioRegistration reg;
    private boolean closed;
    private int acceptsInRow;

    NioTcpListener(NioPoller poller, ServerSocketChannel channel, InetSocketAddress local) {
        this.poller = poller;
        this.channel = channel;
        this.local = local;
    }

    @Override
    public TcpStream accept() throws IOException {
        return acceptDetached().attach(poller.loop());
    }

    @Override
    public Accepted acceptDetached() throws IOException {
        if (reg == null) {
            if (closed) {
                throw new ClosedChannelException();
            }
            reg = poller.register(channel);
        }
        if (++acceptsInRow > ACCEPT_BUDGET) {
            acceptsInRow = 0;
            Coroutine.yieldNow();
        }
        while (true) {
            reg.checkOpen();
            // A failure (EMFILE and the like) goes to the acceptor as it is: ResourceShortage reads
            // java.nio's messages, and the acceptor backs off on a shortage.
            SocketChannel accepted = channel.accept();
            if (accepted != null) {
                return new NioAccepted(prepare(accepted));
            }
            acceptsInRow = 0;
            reg.awaitAcceptable();
        }
    }

    private static SocketChannel prepare(SocketChannel accepted) throws IOException {
        try {
            accepted.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            accepted.close();
            throw e;
        }
        try {
            // Echo traffic is request/response: never let Nagle hold back a small reply.
            accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
            // Urgent data (MSG_OOB) stays in the stream and is echoed like any byte (RFC 862, RFC
            // 6093). No StandardSocketOptions constant exists; the socket adaptor sets SO_OOBINLINE.
            accepted.socket().setOOBInline(true);
        } catch (IOException e) {
            // A peer that already reset: its first read will say so.
        }
        return accepted;
    }

    @Override
    public InetSocketAddress localAddress() {
        return local;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (reg != null) {
            reg.close();
            poller.flushCancelled(); // stop listening now: connections arriving from here on are refused
        } else {
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing to do: the port is released either way.
            }
        }
    }
}
