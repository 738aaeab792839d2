package io.coecho.runtime.nio;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.linux.Errno;
import io.coecho.runtime.linux.NativeException;
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
            SocketChannel accepted;
            try {
                accepted = channel.accept();
            } catch (IOException e) {
                throw shortageOr(e);
            }
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
        } catch (IOException e) {
            // A peer that already reset: its first read will say so.
        }
        return accepted;
    }

    /**
     * The acceptor backs off on a resource shortage (out of fds or memory) and gives up on anything
     * else. It tells them apart by errno, which java.nio reports only as a message: give it one.
     */
    private static IOException shortageOr(IOException e) {
        String m = e.getMessage();
        int errno = m == null ? 0 : switch (m) {
            case "Too many open files" -> Errno.EMFILE;
            case "Too many open files in system" -> Errno.ENFILE;
            case "No buffer space available" -> Errno.ENOBUFS;
            case "Cannot allocate memory" -> Errno.ENOMEM;
            default -> 0;
        };
        if (errno == 0) {
            return e;
        }
        NativeException ne = new NativeException("accept", errno);
        ne.initCause(e);
        return ne;
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
