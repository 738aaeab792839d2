package io.coecho.server;

import java.net.InetSocketAddress;

/**
 * A named value in a log record: how structured fields (connection, remote address, reason) reach a
 * JSON log line through {@code System.Logger} and java.util.logging, with no logging library. Pass
 * fields as the message's parameters:
 *
 * <pre>{@code
 * if (LOG.isLoggable(DEBUG)) {
 *     LOG.log(DEBUG, "{0}: closing ({1})", LogField.connection(stream), LogField.reason(why));
 * }
 * }</pre>
 *
 * The text format prints a field where its placeholder stands, as {@link #toString()} (the value
 * alone, so the line reads as before); the JSON format prints the message the same way and adds each
 * field as a member of the line's object. A record's parameters reach the handler as they are
 * (LogRecord parameters), so nothing is formatted unless a handler publishes the record, and nothing
 * is allocated at all when the call site checks the level first, as the connection paths do.
 *
 * @param name the JSON member name: lower case, one word
 * @param value what it prints as (its toString), may be null
 */
public record LogField(String name, Object value) {
    public static final String CONNECTION = "connection";
    public static final String REMOTE = "remote";
    public static final String REASON = "reason";
    public static final String PROXY = "proxy";

    /** The connection, as its stream names itself (e.g. {@code tcp fd=12}). */
    public static LogField connection(Object connection) {
        return new LogField(CONNECTION, connection);
    }

    /** The peer's address, written {@code host:port} or {@code [v6]:port}. */
    public static LogField remote(Object address) {
        return new LogField(REMOTE, address instanceof InetSocketAddress a && a.getAddress() != null ? format(a) : address);
    }

    /**
     * The balancer a connection came through under --proxy-protocol (the socket's peer, when the
     * remote address is the client's from the PROXY header), written as {@link #remote}.
     */
    public static LogField proxy(Object address) {
        return new LogField(PROXY, remote(address).value());
    }

    /** Why something happened (a timeout, a shutdown, the peer's error). */
    public static LogField reason(Object reason) {
        return new LogField(REASON, reason);
    }

    /** The value as text: what the message shows in place of the field. */
    @Override
    public String toString() {
        return String.valueOf(value);
    }

    private static String format(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
