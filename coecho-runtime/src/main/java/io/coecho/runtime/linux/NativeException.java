package io.coecho.runtime.linux;

import java.io.IOException;

/**
 * A failed system call: the call's name and the errno it set. The one exception type the Linux
 * transport throws for syscall failures; EAGAIN never becomes one (it is flow, not an error).
 */
public final class NativeException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public NativeException(String call, int errno) {
        super(call + ": " + Errno.name(errno));
        this.errno = errno;
    }

    /** The errno value, e.g. {@link Errno#ECONNRESET}. */
    public int errno() {
        return errno;
    }

    /** True when the peer went away (reset, broken pipe): an expected end, not a surprise. */
    public boolean isDisconnect() {
        return Errno.isDisconnect(errno);
    }
}
