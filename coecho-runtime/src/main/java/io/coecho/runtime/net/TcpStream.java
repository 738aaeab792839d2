package io.coecho.runtime.net;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * A connected TCP socket whose calls read like blocking I/O: each call that cannot complete at once
 * suspends the calling coroutine until the socket is ready, and the loop serves others meanwhile.
 *
 * <p>Threading: use from coroutines of the loop the stream belongs to. One reader and one writer may
 * wait at the same time. Lifecycle: open → (output shut down) → closed; {@link #close()} is
 * idempotent.
 */
public interface TcpStream extends AutoCloseable {
    /**
     * Reads into dst: tries the socket first and suspends only if it has nothing. Returns the number
     * of bytes read (at least 1), or -1 once the peer has shut down its side.
     *
     * @throws java.io.IOException when the connection failed (for example reset by the peer)
     */
    int read(MemorySegment dst) throws IOException;

    /**
     * Reads what is there without waiting for more: the number of bytes read, 0 when nothing is
     * waiting, -1 once the peer has shut down its side. Used to drain a connection that is being
     * closed. Like {@link #read}, it yields its turn after a run of reads (so a peer that keeps
     * sending cannot hold the loop), but it never waits for the socket.
     */
    int readNow(MemorySegment dst) throws IOException;

    /**
     * Writes all of src, suspending while the socket's send buffer is full. A partial write is never
     * an error; it just means waiting. src need not outlive the call's first suspension if it is at
     * most the loop's buffer size: the stream copies what it could not send yet, so src may be the
     * loop's shared scratch buffer.
     *
     * <p>A transport may queue a write of at most the loop's buffer size and return before the
     * kernel has its bytes (io_uring: the send goes out in the loop's next enter, and the writer is
     * not resumed for its completion). Such a write still behaves as one that waited: its bytes go
     * out before anything written later and before {@link #shutdownOutput}; if the socket cannot take
     * them all, the next read or write waits until it has (nothing more is read meanwhile), and
     * {@link #writeWaiting} says so; a failure is thrown by that next call.
     */
    default void write(MemorySegment src) throws IOException {
        write(src, src.byteSize());
    }

    /**
     * Writes src[0, length), as {@link #write(MemorySegment)} writes all of src: what an echo writes
     * back after a read into the start of its buffer, without a slice of the buffer per write (an
     * allocation on the hot path). The same rules for src apply.
     *
     * @throws IndexOutOfBoundsException if length is negative or larger than src
     */
    void write(MemorySegment src, long length) throws IOException;

    /**
     * Whether a write that has returned (a queued one, see {@link #write(MemorySegment)}) still waits
     * for the peer to make room: for a write timeout, which applies to it as to a write that waits
     * in the call. Not for hot paths. False on transports that never queue.
     */
    default boolean writeWaiting() {
        return false;
    }

    /**
     * Whether the peer has sent bytes that no read has taken yet, in the socket or in the transport's
     * own queue (a read would not suspend): for an idle watchdog, which must not call a connection
     * idle while its requests wait for the loop. After a stall of the whole process a loop may take
     * more than one turn to deliver what arrived meanwhile, and a watchdog due in between would
     * otherwise reap a busy connection. Not for hot paths: it may cost a system call. False on
     * transports that cannot tell.
     */
    default boolean inputPending() {
        return false;
    }

    /** Shuts down the sending side (the peer reads EOF once it has read what was sent). */
    void shutdownOutput() throws IOException;

    /** The peer's address (looked up on demand; not for hot paths). */
    InetSocketAddress remoteAddress();

    /**
     * Closes the socket, waking any coroutine that waits on it with an exception. Idempotent. Never
     * waits: after a queued write (see {@link #write(MemorySegment)}) the close sends what the socket
     * takes at once and drops what a full socket refused; an orderly end calls {@link #shutdownOutput}
     * first, which waits for every byte.
     */
    @Override
    void close();

    /**
     * Closes the socket with a reset (RST) instead of the orderly FIN: SO_LINGER with a zero timeout,
     * then close. Unsent data is dropped and the peer's next call fails with "connection reset", as
     * when a host crashes or a middlebox gives up on a connection. For fault injection, and for giving
     * up on a peer on purpose. Like {@link #close()}, wakes waiters and is idempotent; a stream already
     * closed stays as it was.
     */
    void reset();
}
