package io.coecho.runtime.linux;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import io.coecho.runtime.reactor.UnsentBytes;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A TCP connection on epoll. read and write try the syscall first and suspend only on EAGAIN (the
 * seed's fast path), so a busy connection costs one syscall per read and per write, nothing more.
 *
 * <p>Fairness: a connection that always has data would never suspend; after {@link #READ_BUDGET}
 * reads in a row (read and readNow alike) it yields its turn, so one streaming peer cannot starve the
 * loop's other connections (the seed's loop lets one pipelining client starve the rest).
 *
 * <p>Loop thread only (its loop's coroutines).
 */
final class EpollTcpStream implements TcpStream {
    /** Reads in a row before the reader yields its turn to the rest of the loop. */
    static final int READ_BUDGET = 16;

    private final EpollRegistration reg;
    private final Syscalls sys;
    private final EventLoop loop;
    private int readsInRow;

    EpollTcpStream(EpollRegistration reg) {
        this.reg = reg;
        this.sys = reg.poller.sys();
        this.loop = reg.poller.loop();
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
            if (!reg.readable) {
                readsInRow = 0;
                reg.awaitReadable();
                continue;
            }
            long len = dst.byteSize();
            long n = sys.recv(reg.fd, dst, len, 0);
            if (n > 0) {
                if (n < len && !reg.inputEnded && !reg.urgent) {
                    reg.readable = false; // drained: wait for the next edge rather than ask again
                }
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            if (n != -Errno.EAGAIN) {
                throw new NativeException("recv", (int) -n);
            }
            reg.readable = false;
            reg.urgent = false;
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
        long n = sys.recv(reg.fd, dst, dst.byteSize(), 0);
        if (n > 0) {
            return (int) n;
        }
        if (n == 0) {
            return -1;
        }
        if (n == -Errno.EAGAIN) {
            readsInRow = 0;
            reg.readable = false;
            return 0;
        }
        throw new NativeException("recv", (int) -n);
    }

    @Override
    public void write(MemorySegment src, long len) throws IOException {
        Objects.checkFromIndexSize(0, len, src.byteSize());
        if (len == 0) {
            return;
        }
        reg.checkOpen();
        long n = sys.send(reg.fd, src, len);
        if (n == len) {
            return;
        }
        if (n < 0 && n != -Errno.EAGAIN) {
            throw new NativeException("send", (int) -n);
        }
        writeBlocked(src, Math.max(n, 0), len);
    }

    /**
     * The socket took only part of src[0, len): keep what is left (copied into a pooled buffer when it
     * fits, so that src may be shared scratch) and send it as the socket drains. While we wait here
     * this connection reads nothing more: the echo's back-pressure.
     */
    private void writeBlocked(MemorySegment src, long sent, long len) throws IOException {
        try (UnsentBytes unsent = UnsentBytes.keep(loop, src, sent, len)) {
            MemorySegment pending = unsent.bytes();
            long remaining = pending.byteSize();
            long off = 0;
            while (off < remaining) {
                reg.awaitWritable();
                long n = sys.send(reg.fd, pending.asSlice(off), remaining - off);
                if (n >= 0) {
                    off += n;
                } else if (n != -Errno.EAGAIN) {
                    throw new NativeException("send", (int) -n);
                }
            }
        } finally {
            reg.disarmWrite();
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        reg.checkOpen();
        int r = sys.shutdown(reg.fd, LinuxConstants.SHUT_WR);
        if (r < 0 && r != -Errno.ENOTCONN) {
            throw new NativeException("shutdown", -r);
        }
    }

    @Override
    public InetSocketAddress remoteAddress() {
        if (reg.closed) {
            return null;
        }
        return sys.peerAddress(reg.fd);
    }

    @Override
    public void close() {
        reg.close();
    }

    @Override
    public void reset() {
        if (!reg.closed) {
            // A linger of zero makes close() send an RST and drop what is unsent. If setting it fails
            // (it cannot on a socket the kernel still knows), close normally: the stream ends either way.
            sys.setLinger(reg.fd, true, 0);
            reg.close();
        }
    }

    @Override
    public boolean inputPending() {
        return !reg.closed && sys.inputPending(reg.fd);
    }

    /** The socket's descriptor, for tests that look at the kernel's side of it. */
    int fd() {
        return reg.fd;
    }

    @Override
    public String toString() {
        return "tcp fd=" + reg.fd;
    }
}
