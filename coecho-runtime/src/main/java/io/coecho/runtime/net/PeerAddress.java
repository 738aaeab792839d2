package io.coecho.runtime.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * The other end of a datagram: where it came from, or where to send it. Kept as raw socket-address
 * bytes (a sockaddr_in or sockaddr_in6 in Linux layout, with its length) so that receiving a datagram
 * and answering it allocate nothing: the epoll transport hands these bytes straight to recvfrom and
 * sendto, and uses the same encoding for bind, connect and getsockname. Port, family and address are
 * read from the bytes; an {@link InetSocketAddress} is built only when asked for (logs, the nio
 * transport, which maps through it) and kept until the address changes.
 *
 * <pre>
 *   0      2      4                8                        24        28          128   132
 *   +------+------+----------------+------------------------+---------+-----  ...  --+-------+
 *   |family| port | IPv4 (4 bytes) |                        |         |              |socklen|
 *   |family| port | flowinfo       | IPv6 (16 bytes)        | scope   |              |       |
 *   +------+------+----------------+------------------------+---------+-----  ...  --+-------+
 *   host order  network order                                                  what recvfrom wrote
 * </pre>
 *
 * <p>Not thread-safe: one loop (one coroutine at a time) reuses an instance for datagram after
 * datagram. Copy it ({@link #copyFrom}) to keep an address past the next receive.
 */
public final class PeerAddress {
    /** sizeof(struct sockaddr_storage). */
    private static final int STORAGE = 128;
    /** The family field's values in this layout (Linux's AF_INET and AF_INET6), in host order. */
    private static final short FAMILY_IPV4 = 2;
    private static final short FAMILY_IPV6 = 10;
    private static final ValueLayout.OfShort NET_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong NET_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NET_INT =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** ::ffff:0:0, the IPv4-mapped prefix: an IPv4 source has the same key in either form. */
    private static final long MAPPED = 0x0000_FFFF_0000_0000L;

    private final MemorySegment sockaddr;
    private final MemorySegment lengthCell;
    private InetSocketAddress decoded;

    /** An empty address, to receive into. */
    public PeerAddress() {
        MemorySegment raw = Arena.ofAuto().allocate(STORAGE + 4, 8);
        this.sockaddr = raw.asSlice(0, STORAGE);
        this.lengthCell = raw.asSlice(STORAGE, 4);
    }

    /** An address to send to. */
    public static PeerAddress of(InetSocketAddress address) {
        PeerAddress p = new PeerAddress();
        p.set(address);
        return p;
    }

    /** Sets this address (encodes it; keeps the given object for {@link #toInetSocketAddress()}). */
    public void set(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address: " + address);
        }
        sockaddr.fill((byte) 0);
        sockaddr.set(NET_SHORT, 2, (short) address.getPort());
        if (ip instanceof Inet4Address) {
            sockaddr.set(ValueLayout.JAVA_SHORT, 0, FAMILY_IPV4);
            MemorySegment.copy(ip.getAddress(), 0, sockaddr, ValueLayout.JAVA_BYTE, 4, 4);
            lengthCell.set(ValueLayout.JAVA_INT, 0, 16);
        } else {
            sockaddr.set(ValueLayout.JAVA_SHORT, 0, FAMILY_IPV6);
            MemorySegment.copy(ip.getAddress(), 0, sockaddr, ValueLayout.JAVA_BYTE, 8, 16);
            sockaddr.set(ValueLayout.JAVA_INT_UNALIGNED, 24, ((Inet6Address) ip).getScopeId());
            lengthCell.set(ValueLayout.JAVA_INT, 0, 28);
        }
        decoded = address;
    }

    /** Makes this a copy of other. */
    public void copyFrom(PeerAddress other) {
        MemorySegment.copy(other.sockaddr, 0, sockaddr, 0, STORAGE);
        lengthCell.set(ValueLayout.JAVA_INT, 0, other.length());
        decoded = other.decoded;
    }

    // ---- for transports ----

    /** The sockaddr bytes (sockaddr_storage-sized), for recvfrom and sendto. */
    public MemorySegment sockaddr() {
        return sockaddr;
    }

    /** The socklen_t cell recvfrom (or getsockname) reads the capacity from and writes the length to. */
    public MemorySegment lengthCell() {
        return lengthCell;
    }

    /** Readies the address to be overwritten by a receive: full capacity, no cached decoding. */
    public void prepareReceive() {
        lengthCell.set(ValueLayout.JAVA_INT, 0, STORAGE);
        decoded = null;
    }

    /** The sockaddr length (16 for IPv4, 28 for IPv6), 0 when empty. */
    public int length() {
        return lengthCell.get(ValueLayout.JAVA_INT, 0);
    }

    // ---- for filters: no allocation ----

    /** 4 or 6, or 0 for an empty or non-IP address. */
    public int ipVersion() {
        return switch (sockaddr.get(ValueLayout.JAVA_SHORT, 0)) {
            case FAMILY_IPV4 -> 4;
            case FAMILY_IPV6 -> 6;
            default -> 0;
        };
    }

    public int port() {
        return Short.toUnsignedInt(sockaddr.get(NET_SHORT, 2));
    }

    /**
     * The upper 64 bits of the address as IPv6; an IPv4 address reads as its IPv4-mapped form
     * ::ffff:a.b.c.d, so that 192.0.2.1 seen on an IPv4 socket and on a dual-stack one are the same.
     */
    public long addressHigh() {
        return ipVersion() == 6 ? sockaddr.get(NET_LONG, 8) : 0L;
    }

    /** The lower 64 bits of the address as IPv6 (see {@link #addressHigh()}). */
    public long addressLow() {
        return ipVersion() == 6 ? sockaddr.get(NET_LONG, 16) : MAPPED | ipv4Bits(sockaddr.get(NET_INT, 4));
    }

    /**
     * The IPv4 address as an int (network order read as a number, so 127.0.0.1 is 0x7F000001) for an
     * IPv4 address or an IPv4-mapped IPv6 one; meaningless when {@link #isIpv4()} is false.
     */
    public int ipv4() {
        return (int) addressLow();
    }

    /** True for an IPv4 address, including one seen as IPv4-mapped on a dual-stack socket. */
    public boolean isIpv4() {
        return addressHigh() == 0 && (addressLow() & 0xFFFF_FFFF_0000_0000L) == MAPPED;
    }

    /** Same family, address and port. */
    public boolean sameAs(PeerAddress o) {
        return port() == o.port() && addressHigh() == o.addressHigh() && addressLow() == o.addressLow();
    }

    private static long ipv4Bits(int ip) {
        return ip & 0xFFFF_FFFFL;
    }

    // ---- for people ----

    /** The address as an object (built on first use after each change). */
    public InetSocketAddress toInetSocketAddress() {
        if (decoded == null && length() > 0) {
            decoded = decode();
        }
        return decoded;
    }

    private InetSocketAddress decode() {
        try {
            return switch (ipVersion()) {
                case 4 -> new InetSocketAddress(
                        InetAddress.getByAddress(sockaddr.asSlice(4, 4).toArray(ValueLayout.JAVA_BYTE)), port());
                case 6 -> new InetSocketAddress(Inet6Address.getByAddress(null,
                        sockaddr.asSlice(8, 16).toArray(ValueLayout.JAVA_BYTE),
                        sockaddr.get(ValueLayout.JAVA_INT_UNALIGNED, 24)), port());
                default -> throw new IllegalArgumentException(
                        "unknown address family " + sockaddr.get(ValueLayout.JAVA_SHORT, 0));
            };
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Override
    public String toString() {
        InetSocketAddress a = toInetSocketAddress();
        if (a == null) {
            return "(none)";
        }
        String host = a.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
