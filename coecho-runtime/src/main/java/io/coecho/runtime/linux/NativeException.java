package io.coecho.runtime.linux;

import io.coecho.runtime.net.SocketFailure;

/**
 * A failed system call: the call's name and the errno it set, put in the category of failure that
 * callers act on ({@link Errno#category}). The one exception type the Linux transport throws for
 * syscall failures; EAGAIN never becomes one (it is flow, not an error).
 *
 * <p>Immutable; any thread.
 */
public final class NativeException extends SocketFailure {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public NativeException(String call, int errno) {
        super(call + ": " + Errno.name(errno), Errno.category(errno), Errno.name(errno));
        this.errno = errno;
    }

    /** The errno value, e.g. {@link Errno#ECONNRESET}. */
    public int errno() {
        return errno;
    }
}
