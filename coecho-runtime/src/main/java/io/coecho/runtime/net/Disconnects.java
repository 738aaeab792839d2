package io.coecho.runtime.net;

import java.io.IOException;
import java.util.Locale;

/**
 * Tells an expected end of a connection (the peer reset it, or is gone while we wrote) from a
 * surprise, whatever transport raised it: expected ends are logged quietly, surprises loudly.
 *
 * <p>Stateless; any thread.
 */
public final class Disconnects {
    private Disconnects() {}

    public static boolean isPeerGone(IOException e) {
        if (e instanceof SocketFailure f) {
            return f.category() == SocketFailure.Category.PEER_GONE;
        }
        // The JDK (java.nio, java.net) reports the same errnos as messages only.
        String m = e.getMessage();
        if (m == null) {
            return false;
        }
        m = m.toLowerCase(Locale.ROOT);
        return m.contains("connection reset") || m.contains("broken pipe") || m.contains("connection aborted")
                || m.contains("connection timed out");
    }
}
