package io.coecho.runtime;

import io.coecho.runtime.linux.EpollTransport;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.nio.NioTransport;
import io.coecho.runtime.uring.UringTransport;

/**
 * Which {@link Transport} to run on, named as users spell it: {@code epoll} (Linux, through FFM),
 * {@code io_uring} (Linux 5.11+ where io_uring is allowed, through FFM), {@code nio} (java.nio,
 * anywhere), or {@code auto} (epoll where it works, else nio; auto does not pick io_uring until it is
 * measured faster here: see the README). The one way in
 * to the transports for code above the runtime: their classes are the runtime's own business.
 *
 * <p>Immutable; any thread.
 */
public enum TransportChoice {
    AUTO("auto"),
    EPOLL("epoll"),
    IO_URING("io_uring"),
    NIO("nio");

    private final String label;

    TransportChoice(String label) {
        this.label = label;
    }

    /** The name as users write it ("epoll"). */
    public String label() {
        return label;
    }

    /** Parses a name as users write it ("auto", "epoll", "io_uring", "nio"). */
    public static TransportChoice parse(String name) {
        for (TransportChoice t : values()) {
            if (t.label.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("transport must be epoll, io_uring, nio or auto, got " + name);
    }

    /** The transport this names, ready to make loops; fails when it cannot run here. */
    public Transport open() {
        return switch (this) {
            case EPOLL -> {
                if (!EpollTransport.isAvailable()) {
                    throw new IllegalArgumentException("the epoll transport needs Linux; use --transport nio");
                }
                yield new EpollTransport();
            }
            case IO_URING -> {
                String why = UringTransport.unavailableReason();
                if (why != null) {
                    throw new IllegalArgumentException("the io_uring transport is not available here (" + why
                            + "; see /proc/sys/kernel/io_uring_disabled); use --transport epoll");
                }
                yield new UringTransport();
            }
            case NIO -> new NioTransport();
            case AUTO -> EpollTransport.isAvailable() ? new EpollTransport() : new NioTransport();
        };
    }

    @Override
    public String toString() {
        return label;
    }
}
