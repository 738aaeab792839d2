package io.coecho.server.udp;

import io.coecho.runtime.net.PeerAddress;
import java.net.Inet4Address;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Collections;

/**
 * Decides whether a UDP datagram may be answered, so that the echo service cannot be used as a
 * reflector (a spoofed source makes us send to a victim) or drawn into a loop with another echo-like
 * service (CVE-1999-0103: echo and chargen pointed at each other, forever). Cheapest checks first,
 * all reading the raw source address without allocating:
 *
 * <ol>
 *   <li>source port: the deny list (echo, discard, daytime, qotd, chargen, time), our own port
 *       (another instance of this server), 0, and below the minimum (services, not clients);
 *   <li>source address: broadcast, multicast, unspecified (0.0.0.0/8, ::), including the
 *       interfaces' directed broadcasts seen at start-up;
 *   <li>the source's token bucket, then the server's.
 * </ol>
 *
 * <p>Loop thread only: one per UDP socket; only the global bucket is shared.
 */
final class ReflectionGuard {
    private final long[] deniedPorts = new long[65_536 / 64];
    private final int minSourcePort;
    private final int ownPort;
    private final int[] broadcasts;
    private final SourceLimits perSource;
    private final TokenBucket global;

    /**
     * @param ownPort the port we serve on, never answered as a source
     * @param broadcasts directed-broadcast IPv4 addresses of the host's interfaces (see {@link #localBroadcasts()})
     * @param global the server-wide bucket, or null for no global limit
     */
    ReflectionGuard(UdpConfig config, int ownPort, int[] broadcasts, TokenBucket global) {
        for (int p : config.deniedSourcePorts()) {
            deniedPorts[p >>> 6] |= 1L << p;
        }
        this.minSourcePort = config.minSourcePort();
        this.ownPort = ownPort;
        this.broadcasts = broadcasts.clone();
        Arrays.sort(this.broadcasts);
        this.perSource = config.sourceRate() > 0
                ? new SourceLimits(config.sourceRate(), config.sourceBurst(), config.sourceTableSize())
                : null;
        this.global = global;
    }

    /** Why a datagram from from, arriving at now (nanoTime), must not be answered; null if it may. */
    DropReason check(PeerAddress from, long now) {
        int port = from.port();
        if ((deniedPorts[port >>> 6] & (1L << port)) != 0 || port == ownPort) {
            return DropReason.REFLECTOR_PORT;
        }
        if (port < minSourcePort || port == 0) {
            return DropReason.PRIVILEGED_PORT;
        }
        long high = from.addressHigh();
        long low = from.addressLow();
        if (from.isIpv4() ? badIpv4(from.ipv4()) : badIpv6(high, low)) {
            return DropReason.BAD_ADDRESS;
        }
        if (perSource != null && !perSource.tryTake(high, low, now)) {
            return DropReason.SOURCE_RATE;
        }
        if (global != null && !global.tryTake(now)) {
            return DropReason.GLOBAL_RATE;
        }
        return null;
    }

    private boolean badIpv4(int ip) {
        return (ip >>> 24) == 0 // 0.0.0.0/8: "this network", never a real source
                || (ip >>> 28) == 0xE // 224.0.0.0/4: multicast
                || ip == -1 // 255.255.255.255: limited broadcast
                || (broadcasts.length > 0 && Arrays.binarySearch(broadcasts, ip) >= 0);
    }

    private static boolean badIpv6(long high, long low) {
        return (high == 0 && low == 0) // ::
                || (high >>> 56) == 0xFF; // ff00::/8: multicast (IPv6 has no broadcast)
    }

    /** The directed-broadcast addresses of the host's IPv4 interfaces, as ints; empty if unknown. */
    static int[] localBroadcasts() {
        try {
            return Collections.list(NetworkInterface.getNetworkInterfaces()).stream()
                    .flatMap(i -> i.getInterfaceAddresses().stream())
                    .map(InterfaceAddress::getBroadcast)
                    .filter(b -> b instanceof Inet4Address)
                    .mapToInt(b -> java.nio.ByteBuffer.wrap(b.getAddress()).getInt())
                    .distinct()
                    .toArray();
        } catch (SocketException | RuntimeException e) {
            return new int[0];
        }
    }
}
