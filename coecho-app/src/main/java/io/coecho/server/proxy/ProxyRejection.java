package io.coecho.server.proxy;

/**
 * Why a connection was closed before any echo under {@code --proxy-protocol}: the label of
 * {@code coecho_proxy_header_rejected_total{reason=...}} and of the DEBUG line that says so.
 */
public enum ProxyRejection {
    /** The peer is not in --proxy-trusted: nothing is read from it. */
    UNTRUSTED("untrusted"),
    /** Bytes that do not match the protocol: a wrong signature, a bad v1 field, a lone CR or LF, an address block shorter than its family. */
    MALFORMED("malformed"),
    /** A v1 line without its CRLF in 107 bytes, or a v2 header longer than {@link ProxyHeaderParser#V2_MAX_LENGTH}. */
    TOO_LONG("too_long"),
    /** A v2 version other than 2, a command other than LOCAL or PROXY, an unknown family or transport; a v1 protocol other than TCP4, TCP6 or UNKNOWN. */
    UNSUPPORTED("unsupported"),
    /** Not complete within --proxy-header-timeout. */
    TIMEOUT("timeout"),
    /** The peer closed or reset the connection before its header was complete. */
    TRUNCATED("truncated");

    /** How many reasons there are: the size of a per-reason counter array indexed by ordinal. */
    public static final int COUNT = values().length;

    private final String label;

    ProxyRejection(String label) {
        this.label = label;
    }

    /** The metric label and log word: lower case, underscores. */
    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return label;
    }
}
