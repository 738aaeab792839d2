package io.coecho.server.admin;

/**
 * Whether the server wants new connections, as a balancer asks it ({@code /readyz}, the agent
 * check): STARTING → READY once every listener is open → DRAINING from the first SIGTERM on, for
 * good. Liveness is not here: a process that answers at all is alive.
 *
 * <p>Thread-safe: one volatile field, written by the command's thread and the signal handler, read
 * by the admin threads.
 */
public final class Readiness {
    /** The states, in the only order they are entered. */
    public enum State {
        STARTING, READY, DRAINING
    }

    private volatile State state = State.STARTING;

    /** Every listener is open. Does nothing once draining. */
    public synchronized void ready() {
        if (state == State.STARTING) {
            state = State.READY;
        }
    }

    /** No longer ready, for good; true the first time. */
    public synchronized boolean drain() {
        boolean first = state != State.DRAINING;
        state = State.DRAINING;
        return first;
    }

    public State state() {
        return state;
    }

    public boolean isReady() {
        return state == State.READY;
    }
}
