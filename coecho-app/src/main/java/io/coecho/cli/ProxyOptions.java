package io.coecho.cli;

import io.coecho.server.proxy.CidrList;
import io.coecho.server.proxy.ProxyConfig;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The {@code --proxy-*} options of {@code coecho serve}, and {@code --max-connections-per-source},
 * which counts on the address the PROXY header gives: what running behind an L4 balancer needs.
 */
final class ProxyOptions {
    @Option(names = "--proxy-protocol",
            description = "Every TCP connection must start with a PROXY protocol header (v1 or v2, as HAProxy's send-proxy"
                    + " and send-proxy-v2 send), which is never echoed; the client it names is what logs and"
                    + " --max-connections-per-source see. A connection without a valid header is closed. UDP is unaffected. Default: off.")
    boolean proxyProtocol;

    @Option(names = "--proxy-trusted", paramLabel = "CIDR,...", defaultValue = "127.0.0.0/8,::1/128",
            description = "With --proxy-protocol: the balancers' addresses (CIDR blocks or addresses); connections from"
                    + " anywhere else are closed unread. Default: ${DEFAULT-VALUE} (loopback only).")
    String proxyTrusted;

    @Option(names = "--proxy-header-timeout", defaultValue = "3s", converter = DurationOption.class,
            description = "With --proxy-protocol: close a connection whose header is not complete this long after it"
                    + " was accepted (0: never). Default: ${DEFAULT-VALUE}.")
    Duration proxyHeaderTimeout;

    @Option(names = "--max-connections-per-source", paramLabel = "N", defaultValue = "0",
            description = "Open TCP connections at most from one client address (the PROXY header's with --proxy-protocol),"
                    + " across all loops; beyond, a new one is closed at once (0: no limit). Default: ${DEFAULT-VALUE}.")
    int maxConnectionsPerSource;

    /** The PROXY part of the server config. */
    ProxyConfig config() {
        CidrList trusted;
        try {
            trusted = CidrList.parse(proxyTrusted);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--proxy-trusted: " + e.getMessage());
        }
        if (maxConnectionsPerSource < 0) {
            throw new IllegalArgumentException("--max-connections-per-source must not be negative, got " + maxConnectionsPerSource);
        }
        return new ProxyConfig(proxyProtocol, trusted, proxyHeaderTimeout);
    }
}
