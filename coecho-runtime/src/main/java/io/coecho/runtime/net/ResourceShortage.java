package io.coecho.runtime.net;

import java.io.IOException;

/**
 * Recognises an accept that failed for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM), whatever transport raised it: the connection is still queued, and the right answer is to
 * wait and retry, not to give up.
 *
 * <p>Stateless; any thread. Loaded with the transports, so that using it out of descriptors loads
 * nothing.
 */
public final class ResourceShortage {
    private ResourceShortage() {}

    /** The errno name of a shortage ("EMFILE"), or null when e is something else. */
    public static String errnoName(IOException e) {
        if (e instanceof SocketFailure f) {
            return f.category() == SocketFailure.Category.RESOURCE_SHORTAGE ? f.code() : null;
        }
        // The JDK (java.nio, java.net) reports the same errnos as strerror messages.
        String m = e.getMessage();
        if (m == null) {
            return null;
        }
        if (m.startsWith("Too many open files in system")) {
            return "ENFILE";
        }
        if (m.startsWith("Too many open files")) {
            return "EMFILE";
        }
        if (m.startsWith("No buffer space available")) {
            return "ENOBUFS";
        }
        if (m.startsWith("Cannot allocate memory")) {
            return "ENOMEM";
        }
        return null;
    }
}
