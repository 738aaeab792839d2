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

    /** Shuts down the sending side (the peer reads EOF once it has read what was sent). */
    void shutdownOutput() throws IOException;

    /** The peer's address (looked up on demand; not for hot paths). */
    InetSocketAddress remoteAddress();

    /** Closes the socket, waking any coroutine that waits on it with an exception. Idempotent. */
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
