package io.coecho.server;

/** How connections are served: our coroutines, or the two designs the seed compares them with. */
public enum Engine {
    /** Stackful coroutines on event loops (epoll or nio): the point of this project. */
    COROUTINES("coroutines"),
    /** One virtual thread per connection, blocking JDK sockets. */
    VIRTUAL_THREADS("virtual-threads"),
    /** One platform thread per connection, blocking JDK sockets. */
    THREADS("threads");

    private final String label;

    Engine(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Parses a label as the CLI spells it ("coroutines", "virtual-threads", "threads"). */
    public static Engine parse(String s) {
        for (Engine e : values()) {
            if (e.label.equals(s)) {
                return e;
            }
        }
        throw new IllegalArgumentException("engine must be coroutines, virtual-threads or threads, got " + s);
    }

    @Override
    public String toString() {
        return label;
    }
}
