package io.coecho.server.proxy;

import java.time.Duration;
import java.util.Objects;

/**
 * The PROXY protocol settings ({@code --proxy-protocol}, {@code --proxy-trusted},
 * {@code --proxy-header-timeout}). Immutable; any thread.
 *
 * @param enabled every TCP connection must start with a PROXY header, v1 or v2 (never guessed per
 *     connection: a server that accepted connections with and without would let any client claim
 *     any address)
 * @param trusted the peers allowed to connect at all, the balancers; a connection from elsewhere is
 *     closed before anything is read ({@link CidrList#LOOPBACK} by default)
 * @param headerTimeout how long the whole header may take to arrive (zero: no limit)
 */
public record ProxyConfig(boolean enabled, CidrList trusted, Duration headerTimeout) {
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(3);
    /** Off: connections carry no header. */
    public static final ProxyConfig OFF = new ProxyConfig(false, CidrList.LOOPBACK, DEFAULT_HEADER_TIMEOUT);

    public ProxyConfig {
        Objects.requireNonNull(trusted, "trusted");
        Objects.requireNonNull(headerTimeout, "headerTimeout");
        if (headerTimeout.isNegative()) {
            throw new IllegalArgumentException("the PROXY header timeout must not be negative, got " + headerTimeout);
        }
    }

    /** On, for peers in trusted, with the default header timeout. */
    public static ProxyConfig from(CidrList trusted) {
        return new ProxyConfig(true, trusted, DEFAULT_HEADER_TIMEOUT);
    }
}
