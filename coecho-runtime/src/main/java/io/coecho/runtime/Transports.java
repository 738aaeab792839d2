package io.coecho.runtime;

import io.coecho.runtime.linux.EpollTransport;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.nio.NioTransport;

/** Picks a {@link Transport} by name: "epoll", "nio", or "auto" (epoll where it works, else nio). */
public final class Transports {
    private Transports() {}

    public static Transport select(String name) {
        return switch (name) {
            case "epoll" -> {
                if (!EpollTransport.isAvailable()) {
                    throw new IllegalArgumentException("the epoll transport needs Linux; use --transport nio");
                }
                yield new EpollTransport();
            }
            case "nio" -> new NioTransport();
            case "auto" -> EpollTransport.isAvailable() ? new EpollTransport() : new NioTransport();
            default -> throw new IllegalArgumentException("transport must be epoll, nio or auto, got " + name);
        };
    }
}
