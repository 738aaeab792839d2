package io.coecho.runtime.net;

import java.io.IOException;

/**
 * What a failed accept says about its listener, whatever transport raised it. Resource shortages
 * are {@link ResourceShortage}'s; of the rest (by the code a {@link SocketFailure} carries), only EBADF, ENOTSOCK and EINVAL mean that the
 * listening socket itself is unusable (its descriptor was closed or replaced under it, or it no
 * longer listens), so that retrying cannot help. Anything else (a security module's EPERM, a network
 * error passed on from one queued connection, an errno we do not know) leaves it usable.
 *
 * <p>Stateless. Loaded with the acceptor, so that using it out of descriptors loads nothing.
 */
public final class AcceptErrors {
    private AcceptErrors() {}

    /** True when e says the listening socket itself is unusable. */
    public static boolean listenerBroken(IOException e) {
        if (e instanceof SocketFailure f) {
            String code = f.code();
            return code.equals("EBADF") || code.equals("ENOTSOCK") || code.equals("EINVAL");
        }
        // java.nio reports the same errnos as strerror messages.
        String m = e.getMessage();
        return m != null && (m.startsWith("Bad file descriptor") || m.startsWith("Socket operation on non-socket")
                || m.startsWith("Invalid argument"));
    }

    /** The errno name ("EPERM"), or java.nio's message where the transport gives no errno; for logs. */
    public static String name(IOException e) {
        if (e instanceof SocketFailure f) {
            return f.code();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
