package io.coecho.server;

import io.coecho.runtime.net.AcceptErrors;
import io.coecho.runtime.net.ResourceShortage;

/**
 * What an acceptor says when accept keeps failing, for lack of descriptors or with any error it
 * retries: one WARNING with the errno's name for the first failure, "accepting again" when it
 * recovers, and silence for further episodes within a minute (a server at its open-files limit flaps
 * in and out of EMFILE with every connection that closes, and must not log once per connection).
 *
 * <p>One per acceptor; used by that acceptor's thread only. Allocates nothing after construction
 * except the log records themselves.
 */
public final class AcceptFailureLog {
    private static final System.Logger LOG = System.getLogger(AcceptFailureLog.class.getName());
    private static final long QUIET_NANOS = 60_000_000_000L;

    static {
        // Load what the EMFILE path uses now: out of descriptors, the JVM cannot open its jar to load it.
        ResourceShortage.errnoName(new java.io.IOException("preload"));
        AcceptErrors.listenerBroken(new java.io.IOException("preload"));
    }

    private boolean failing;
    private boolean announced;
    private boolean everWarned;
    private long lastWarned;

    /** accept failed with the error named by errnoName; the caller backs off and retries. */
    public void failed(String errnoName, long backoffMillis) {
        if (failing) {
            return;
        }
        failing = true;
        long now = System.nanoTime();
        if (!everWarned || now - lastWarned >= QUIET_NANOS) {
            everWarned = true;
            lastWarned = now;
            announced = true;
            LOG.log(System.Logger.Level.WARNING,
                    "accept failed ({0}): new connections wait in the backlog; retrying every {1} ms",
                    errnoName, String.valueOf(backoffMillis));
        }
    }

    /** accept worked: if a failure was announced, say that it is over. */
    public void succeeded() {
        if (!failing) {
            return;
        }
        failing = false;
        if (announced) {
            announced = false;
            LOG.log(System.Logger.Level.INFO, "accepting again");
        }
    }
}
