package io.coecho.runtime.nio;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.UnsentBytes;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A TCP connection on a java.nio SocketChannel. read and write try the channel first and suspend only
 * when it can do nothing (the seed's fast path), so a busy connection costs one read and one write
 * call each time, nothing more; the wait sets the Selector's interest only while it lasts.
 *
 * <p>Fairness: a connection that always has data would never suspend; after {@link #READ_BUDGET}
 * reads in a row (read and readNow alike) it yields its turn, so one streaming peer cannot starve the
 * loop's other connections (the seed's loop lets one pipelining client starve the rest).
 *
 * <p>Loop thread only (its loop's coroutines).
 */
final class NioTcpStream implements TcpStream {
    /** Reads in a row before the reader yields its turn to the rest of the loop. */
    static final int READ_BUDGET = 16;

    private final NioRegistration reg;
    private final SocketChannel channel;
    private final EventLoop loop;
    /** Known once connected (the channel caches it); kept for log lines after close. */
    private final InetSocketAddress remote;
    private int readsInRow;

    NioTcpStream(NioRegistration reg) throws IOException {
        this.reg = reg;
        this.channel = (SocketChannel) reg.channel;
        this.loop = reg.poller.loop();
        this.remote = (InetSocketAddress) channel.getRemoteAddress();
    }

    @Override
    public int read(MemorySegment dst) throws IOException {
        if (++readsInRow > READ_BUDGET) {
            // Yield before the read, not after: dst may be the loop's shared scratch buffer, which
            // others use while we are away.
            readsInRow = 0;
            Coroutine.yieldNow();
        }
        while (true) {
            reg.checkOpen();
            int n = channel.read(reg.poller.buffer(dst));
            if (n > 0) {
                return n;
            }
            if (n < 0) {
                return -1;
            }
            readsInRow = 0;
            reg.awaitReadable();
        }
    }

    @Override
    public int readNow(MemorySegment dst) throws IOException {
        if (++readsInRow > READ_BUDGET) {
            // The same budget as read: a server draining a peer that keeps its socket readable would
            // otherwise hold the loop, the shutdown timer included. Before the read, as there.
            readsInRow = 0;
            Coroutine.yieldNow();
        }
        reg.checkOpen();
        int n = channel.read(reg.poller.buffer(dst));
        if (n == 0) {
            readsInRow = 0;
        }
        return n;
    }

    @Override
    public void write(MemorySegment src, long len) throws IOException {
        Objects.checkFromIndexSize(0, len, src.byteSize());
        if (len == 0) {
            return;
        }
        reg.checkOpen();
        int n = channel.write(reg.poller.buffer(src, len));
        if (n == len) {
            return;
        }
        writeBlocked(src, n, len);
    }

    /**
     * The socket took only part of src[0, len): keep what is left (copied into a pooled buffer when it
     * fits, so that src may be shared scratch) and send it as the socket drains. While we wait here
     * this connection reads nothing more: the echo's back-pressure.
     */
    private void writeBlocked(MemorySegment src, long sent, long len) throws IOException {
        try (UnsentBytes unsent = UnsentBytes.keep(loop, src, sent, len)) {
            ByteBuffer out = unsent.bytes().asByteBuffer();
            while (out.hasRemaining()) {
                // Write interest is armed for this wait only: a socket is almost always writable,
                // so interest left on would wake the loop for nothing (the seed's EPOLLOUT trap).
                reg.awaitWritable();
                channel.write(out);
            }
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        reg.checkOpen();
        // The JDK ignores ENOTCONN here (a peer that already reset), like the epoll stream.
        channel.shutdownOutput();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return reg.closed ? null : remote;
    }

    @Override
    public void close() {
        reg.close();
    }

    @Override
    public void reset() {
        if (!reg.closed) {
            try {
                // A linger of zero makes close() send an RST and drop what is unsent.
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            } catch (IOException e) {
                // a connection the kernel already dropped: close normally, it ends either way
            }
            reg.close();
        }
    }

    @Override
    public String toString() {
        return "tcp " + remote;
    }
}
