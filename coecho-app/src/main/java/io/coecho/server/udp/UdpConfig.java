package io.coecho.server.udp;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * UDP echo (RFC 862) and its safeguards against reflection and echo loops. Immutable; every limit on
 * by default (see {@link #DEFAULTS}), UDP itself off until {@link #enabled()}.
 *
 * @param enabled serve UDP echo on the TCP address and port
 * @param maxDatagram the largest datagram answered; larger ones are counted and dropped
 * @param deniedSourcePorts source ports never answered: other echo-like services (echo 7, discard 9,
 *     daytime 13, qotd 17, chargen 19, time 37) that would answer back, looping forever
 * @param minSourcePort the lowest source port answered (1024: no privileged port, where services
 *     live; 1: any port). Port 0 and the server's own port are never answered.
 * @param sourceRate datagrams per second answered per source address, per loop (0: no limit)
 * @param sourceBurst datagrams a quiet source may send at once before its rate applies
 * @param globalRate datagrams per second answered by the whole server (0: no limit)
 * @param globalBurst datagrams the server may answer at once before the global rate applies
 * @param sourceTableSize sources each loop remembers for its per-source limit (bounded memory:
 *     when full, the source that has been quiet longest is forgotten)
 * @param dropLogInterval drops are summarised in the log at most once per this interval
 */
public record UdpConfig(boolean enabled, int maxDatagram, Set<Integer> deniedSourcePorts, int minSourcePort,
        int sourceRate, int sourceBurst, int globalRate, int globalBurst, int sourceTableSize,
        Duration dropLogInterval) {

    /** The reflector services' ports (echo, discard, daytime, qotd, chargen, time). */
    public static final Set<Integer> REFLECTOR_PORTS = Set.of(7, 9, 13, 17, 19, 37);

    /** Off, with every safeguard at its default. */
    public static final UdpConfig DEFAULTS = new UdpConfig(false, 65_507, REFLECTOR_PORTS, 1024,
            100, 100, 10_000, 10_000, 16_384, Duration.ofSeconds(10));

    public UdpConfig {
        if (maxDatagram < 1 || maxDatagram > 65_527) {
            throw new IllegalArgumentException("UDP max datagram must be between 1 and 65527 bytes, got " + maxDatagram);
        }
        deniedSourcePorts = Set.copyOf(new TreeSet<>(deniedSourcePorts));
        for (int p : deniedSourcePorts) {
            if (p < 1 || p > 65_535) {
                throw new IllegalArgumentException("denied UDP source ports must be between 1 and 65535, got " + p);
            }
        }
        if (minSourcePort < 1 || minSourcePort > 65_535) {
            throw new IllegalArgumentException("UDP min source port must be between 1 and 65535, got " + minSourcePort);
        }
        if (sourceRate < 0 || globalRate < 0) {
            throw new IllegalArgumentException("UDP rates must not be negative");
        }
        if ((sourceRate > 0 && sourceBurst < 1) || (globalRate > 0 && globalBurst < 1)) {
            throw new IllegalArgumentException("a UDP burst must be at least 1 datagram");
        }
        if (sourceTableSize < 16 || sourceTableSize > 1 << 24) {
            throw new IllegalArgumentException("UDP source table must hold between 16 and 16777216 sources, got "
                    + sourceTableSize);
        }
        if (dropLogInterval.isNegative() || dropLogInterval.isZero()) {
            throw new IllegalArgumentException("UDP drop log interval must be positive, got " + dropLogInterval);
        }
    }

    /** These settings with UDP switched on. */
    public UdpConfig enable() {
        return new UdpConfig(true, maxDatagram, deniedSourcePorts, minSourcePort, sourceRate, sourceBurst, globalRate,
                globalBurst, sourceTableSize, dropLogInterval);
    }

    /** These settings with other rate limits (0: none). */
    public UdpConfig withRates(int sourceRate, int sourceBurst, int globalRate, int globalBurst) {
        return new UdpConfig(enabled, maxDatagram, deniedSourcePorts, minSourcePort, sourceRate, sourceBurst,
                globalRate, globalBurst, sourceTableSize, dropLogInterval);
    }

    /** These settings with another largest datagram. */
    public UdpConfig withMaxDatagram(int bytes) {
        return new UdpConfig(enabled, bytes, deniedSourcePorts, minSourcePort, sourceRate, sourceBurst, globalRate,
                globalBurst, sourceTableSize, dropLogInterval);
    }

    /** These settings with other port rules. */
    public UdpConfig withSourcePorts(Set<Integer> denied, int min) {
        return new UdpConfig(enabled, maxDatagram, denied, min, sourceRate, sourceBurst, globalRate, globalBurst,
                sourceTableSize, dropLogInterval);
    }
}
