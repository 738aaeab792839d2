package io.coecho.server.udp;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * UDP echo (RFC 862) and its safeguards against reflection and echo loops. Immutable; any thread.
 * Every limit on by default (see {@link #DEFAULTS}), UDP itself off until {@link #enabled()}. Made
 * with a {@link Builder}, as {@link io.coecho.server.ServerConfig} is:
 * {@code UdpConfig.builder().enabled(true).sourceRate(0).build()}.
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
    public static final UdpConfig DEFAULTS = builder().build();

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

    /** A builder holding {@link #DEFAULTS}: UDP off, every safeguard on. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these settings, to change some of them. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /**
     * Collects a {@link UdpConfig} field by field; {@link #build()} validates it. One setter per
     * field, named after it. Not thread-safe: one thread builds.
     */
    public static final class Builder {
        private boolean enabled;
        private int maxDatagram = 65_507;
        private Set<Integer> deniedSourcePorts = REFLECTOR_PORTS;
        private int minSourcePort = 1024;
        private int sourceRate = 100;
        private int sourceBurst = 100;
        private int globalRate = 10_000;
        private int globalBurst = 10_000;
        private int sourceTableSize = 16_384;
        private Duration dropLogInterval = Duration.ofSeconds(10);

        private Builder() {}

        private Builder(UdpConfig c) {
            enabled = c.enabled;
            maxDatagram = c.maxDatagram;
            deniedSourcePorts = c.deniedSourcePorts;
            minSourcePort = c.minSourcePort;
            sourceRate = c.sourceRate;
            sourceBurst = c.sourceBurst;
            globalRate = c.globalRate;
            globalBurst = c.globalBurst;
            sourceTableSize = c.sourceTableSize;
            dropLogInterval = c.dropLogInterval;
        }

        public Builder enabled(boolean on) {
            this.enabled = on;
            return this;
        }

        public Builder maxDatagram(int bytes) {
            this.maxDatagram = bytes;
            return this;
        }

        public Builder deniedSourcePorts(Set<Integer> ports) {
            this.deniedSourcePorts = ports;
            return this;
        }

        public Builder minSourcePort(int port) {
            this.minSourcePort = port;
            return this;
        }

        /** Datagrams per second per source (0: no limit). */
        public Builder sourceRate(int perSecond) {
            this.sourceRate = perSecond;
            return this;
        }

        public Builder sourceBurst(int datagrams) {
            this.sourceBurst = datagrams;
            return this;
        }

        /** Datagrams per second for the whole server (0: no limit). */
        public Builder globalRate(int perSecond) {
            this.globalRate = perSecond;
            return this;
        }

        public Builder globalBurst(int datagrams) {
            this.globalBurst = datagrams;
            return this;
        }

        public Builder sourceTableSize(int sources) {
            this.sourceTableSize = sources;
            return this;
        }

        public Builder dropLogInterval(Duration interval) {
            this.dropLogInterval = interval;
            return this;
        }

        /** The settings; throws IllegalArgumentException if one is out of range. */
        public UdpConfig build() {
            return new UdpConfig(enabled, maxDatagram, deniedSourcePorts, minSourcePort, sourceRate, sourceBurst,
                    globalRate, globalBurst, sourceTableSize, dropLogInterval);
        }
    }
}
