package io.coecho.server.proxy;

/**
 * A snapshot of the connections refused under {@code --proxy-protocol}, by {@link ProxyRejection}.
 * The engines count in plain per-loop fields (a {@code long[]} indexed by the reason's ordinal);
 * this is what a scrape or a test reads.
 */
public record ProxyRejections(long untrusted, long malformed, long tooLong, long unsupported, long timeout,
        long truncated) {

    public static final ProxyRejections ZERO = new ProxyRejections(0, 0, 0, 0, 0, 0);

    /** From counts indexed by {@link ProxyRejection#ordinal()}. */
    public static ProxyRejections of(long[] byReason) {
        return new ProxyRejections(byReason[0], byReason[1], byReason[2], byReason[3], byReason[4], byReason[5]);
    }

    public long count(ProxyRejection reason) {
        return switch (reason) {
            case UNTRUSTED -> untrusted;
            case MALFORMED -> malformed;
            case TOO_LONG -> tooLong;
            case UNSUPPORTED -> unsupported;
            case TIMEOUT -> timeout;
            case TRUNCATED -> truncated;
        };
    }

    public long total() {
        return untrusted + malformed + tooLong + unsupported + timeout + truncated;
    }

    public ProxyRejections plus(ProxyRejections o) {
        return new ProxyRejections(untrusted + o.untrusted, malformed + o.malformed, tooLong + o.tooLong,
                unsupported + o.unsupported, timeout + o.timeout, truncated + o.truncated);
    }
}
