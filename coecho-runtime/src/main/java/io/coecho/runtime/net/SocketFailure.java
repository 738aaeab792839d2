package io.coecho.runtime.net;

import java.io.IOException;

/**
 * A failed socket call that its transport has already put in a {@link Category}: what the caller
 * does about a failure depends on the category, never on a transport's own codes. The epoll
 * transport's exceptions are SocketFailures (it maps errno); the java.nio transport passes up the
 * JDK's own exceptions, which {@link Disconnects} and {@link ResourceShortage} read by type and
 * message, as they do for any JDK socket (the blocking engines').
 *
 * <p>Immutable; any thread.
 */
public abstract class SocketFailure extends IOException {
    private static final long serialVersionUID = 1L;

    /** What a caller does about a failure. */
    public enum Category {
        /** The peer reset the connection or went away while we wrote: an expected end, logged quietly. */
        PEER_GONE,
        /** No descriptors or memory for now (EMFILE, ENFILE, ENOBUFS, ENOMEM): wait and retry. */
        RESOURCE_SHORTAGE,
        /** The address cannot be used from here: in use, not available, unreachable, refused. */
        ADDRESS,
        /** Anything else: a surprise, logged loudly. */
        OTHER
    }

    private final Category category;
    private final String code;

    /**
     * @param message what failed, for people ("recv: ECONNRESET")
     * @param category what the caller should make of it
     * @param code the operating system's name for the error ("ECONNRESET"), for log lines
     */
    protected SocketFailure(String message, Category category, String code) {
        super(message);
        this.category = category;
        this.code = code;
    }

    public final Category category() {
        return category;
    }

    /** The operating system's name for the error, such as "ECONNRESET". */
    public final String code() {
        return code;
    }
}
