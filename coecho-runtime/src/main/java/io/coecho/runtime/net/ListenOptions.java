package io.coecho.runtime.net;

/**
 * How to open a listening socket.
 *
 * @param backlog the accept queue length (the kernel caps it at net.core.somaxconn)
 * @param reusePort SO_REUSEPORT, so that several loops can each listen on the same port and the
 *     kernel spreads connections among them
 *
 * <p>Immutable; any thread.
 */
public record ListenOptions(int backlog, boolean reusePort) {
    public ListenOptions {
        if (backlog <= 0) {
            throw new IllegalArgumentException("backlog must be positive: " + backlog);
        }
    }
}
