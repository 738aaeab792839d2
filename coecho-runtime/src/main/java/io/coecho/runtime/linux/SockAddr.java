package io.coecho.runtime.linux;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * sockaddr_in / sockaddr_in6 encoding into a caller's sockaddr_storage-sized segment.
 *
 * <p>Stateless; thread-safe. The family is in host order, the port in network order.
 */
public final class SockAddr {
    /** sizeof(struct sockaddr_storage). */
    public static final int STORAGE_SIZE = 128;

    private static final ValueLayout.OfShort NET_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private SockAddr() {}

    /** Writes addr into dst and returns the length to pass to bind/connect/sendto. */
    public static int encode(InetSocketAddress addr, MemorySegment dst) {
        InetAddress ip = addr.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address: " + addr);
        }
        dst.fill((byte) 0);
        if (ip instanceof Inet4Address) {
            dst.set(ValueLayout.JAVA_SHORT, 0, (short) LinuxConstants.AF_INET);
            dst.set(NET_SHORT, 2, (short) addr.getPort());
            MemorySegment.copy(ip.getAddress(), 0, dst, ValueLayout.JAVA_BYTE, 4, 4);
            return 16;
        }
        dst.set(ValueLayout.JAVA_SHORT, 0, (short) LinuxConstants.AF_INET6);
        dst.set(NET_SHORT, 2, (short) addr.getPort());
        MemorySegment.copy(ip.getAddress(), 0, dst, ValueLayout.JAVA_BYTE, 8, 16);
        dst.set(ValueLayout.JAVA_INT_UNALIGNED, 24, ((Inet6Address) ip).getScopeId());
        return 28;
    }

    /** The address family (AF_INET or AF_INET6) an address needs for socket(). */
    public static int family(InetSocketAddress addr) {
        return addr.getAddress() instanceof Inet4Address ? LinuxConstants.AF_INET : LinuxConstants.AF_INET6;
    }

    /** Decodes a sockaddr_in or sockaddr_in6. */
    public static InetSocketAddress decode(MemorySegment src) {
        int family = src.get(ValueLayout.JAVA_SHORT, 0);
        int port = Short.toUnsignedInt(src.get(NET_SHORT, 2));
        try {
            if (family == LinuxConstants.AF_INET) {
                return new InetSocketAddress(InetAddress.getByAddress(src.asSlice(4, 4).toArray(ValueLayout.JAVA_BYTE)), port);
            }
            if (family == LinuxConstants.AF_INET6) {
                byte[] ip = src.asSlice(8, 16).toArray(ValueLayout.JAVA_BYTE);
                int scope = src.get(ValueLayout.JAVA_INT_UNALIGNED, 24);
                return new InetSocketAddress(Inet6Address.getByAddress(null, ip, scope), port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
        throw new IllegalArgumentException("unknown address family " + family);
    }

    /** The port of a sockaddr_in or sockaddr_in6, without allocating. */
    public static int port(MemorySegment src) {
        return Short.toUnsignedInt(src.get(NET_SHORT, 2));
    }
}
