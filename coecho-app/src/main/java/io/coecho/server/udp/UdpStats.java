package io.coecho.server.udp;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A snapshot of a server's UDP counters.
 *
 * @param sockets UDP sockets served (one per loop; 0 when UDP is off)
 * @param received datagrams received, answered or not
 * @param echoed datagrams answered
 * @param bytesIn payload bytes received (an oversize datagram counts its full length)
 * @param bytesOut payload bytes sent back
 * @param dropped datagrams not answered, by reason (every reason present)
 */
public record UdpStats(long sockets, long received, long echoed, long bytesIn, long bytesOut,
        Map<DropReason, Long> dropped) {

    public static final UdpStats ZERO = new UdpStats(0, 0, 0, 0, 0, new EnumMap<>(DropReason.class));

    public UdpStats {
        EnumMap<DropReason, Long> m = new EnumMap<>(DropReason.class);
        for (DropReason r : DropReason.values()) {
            m.put(r, dropped.getOrDefault(r, 0L));
        }
        dropped = Collections.unmodifiableMap(m);
    }

    /** Datagrams dropped for reason. */
    public long dropped(DropReason reason) {
        return dropped.get(reason);
    }

    /** Datagrams dropped for any reason. */
    public long droppedTotal() {
        return dropped.values().stream().mapToLong(Long::longValue).sum();
    }

    public static UdpStats of(Iterable<UdpEchoService> services) {
        long n = 0;
        long received = 0;
        long echoed = 0;
        long in = 0;
        long out = 0;
        EnumMap<DropReason, Long> dropped = new EnumMap<>(DropReason.class);
        for (UdpEchoService s : services) {
            n++;
            received += s.received;
            echoed += s.echoed;
            in += s.bytesIn;
            out += s.bytesOut;
            for (DropReason r : DropReason.values()) {
                dropped.merge(r, s.dropped[r.ordinal()], Long::sum);
            }
        }
        return new UdpStats(n, received, echoed, in, out, dropped);
    }
}
