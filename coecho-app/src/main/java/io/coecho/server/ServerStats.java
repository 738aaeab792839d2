package io.coecho.server;

import io.coecho.server.proxy.ProxyRejections;

/**
 * A snapshot of a server's counters.
 *
 * @param active connections open now
 * @param accepted connections accepted since start
 * @param closed connections closed since start
 * @param bytesIn bytes read from clients
 * @param bytesOut bytes echoed back
 * @param idleTimeouts connections closed for inactivity
 * @param writeTimeouts connections closed because their peer stopped reading
 * @param drained connections that finished during a graceful shutdown
 * @param cut connections cut when the shutdown timeout passed
 * @param acceptErrors accept failures (EMFILE and the like)
 * @param admissionWaits times the acceptor paused at --max-connections, leaving clients in the backlog
 * @param writeWaits echo writes that had to wait for the peer to read, in all
 * @param writesWaiting echo writes waiting for the peer to read right now (slow or stuck readers)
 * @param sourceLimited connections closed at once: their source was at --max-connections-per-source
 * @param proxyRejected connections closed before any echo under --proxy-protocol, by reason
 */
public record ServerStats(long active, long accepted, long closed, long bytesIn, long bytesOut, long idleTimeouts,
        long writeTimeouts, long drained, long cut, long acceptErrors, long admissionWaits, long writeWaits, long writesWaiting,
        long sourceLimited, ProxyRejections proxyRejected) {

    /** The sum of two snapshots. */
    public ServerStats plus(ServerStats o) {
        return new ServerStats(active + o.active, accepted + o.accepted, closed + o.closed, bytesIn + o.bytesIn,
                bytesOut + o.bytesOut, idleTimeouts + o.idleTimeouts, writeTimeouts + o.writeTimeouts,
                drained + o.drained, cut + o.cut, acceptErrors + o.acceptErrors,
                admissionWaits + o.admissionWaits, writeWaits + o.writeWaits, writesWaiting + o.writesWaiting,
                sourceLimited + o.sourceLimited, proxyRejected.plus(o.proxyRejected));
    }

    public static final ServerStats ZERO = new ServerStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ProxyRejections.ZERO);
}
