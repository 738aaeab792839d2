package io.coecho.server.proxy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of address blocks written as CIDRs ({@code 10.0.0.0/8,2001:db8::/32,192.0.2.7}): the peers
 * {@code --proxy-trusted} lets send a PROXY header. A bare address is a block of one.
 *
 * <p>Every address is compared in its IPv6 form, an IPv4 one as {@code ::ffff:a.b.c.d}, so that a
 * balancer at 10.0.0.5 matches {@code 10.0.0.0/8} whether it reaches an IPv4 socket or, as
 * {@code ::ffff:10.0.0.5}, a dual-stack one ({@code --bind ::}).
 *
 * <p>Immutable; any thread.
 */
public final class CidrList {
    /** Loopback only: --proxy-trusted's default. */
    public static final CidrList LOOPBACK = parse("127.0.0.0/8,::1/128");

    private static final long MAPPED = 0x0000_FFFF_0000_0000L;

    private final long[] high;
    private final long[] low;
    /** The prefix length of each block, in the 128-bit form. */
    private final int[] bits;
    private final String text;

    private CidrList(long[] high, long[] low, int[] bits, String text) {
        this.high = high;
        this.low = low;
        this.bits = bits;
        this.text = text;
    }

    /**
     * Parses a comma-separated list of literal addresses (no host names: nothing is looked up),
     * each optionally with a prefix length; bits below the prefix are ignored. Throws
     * IllegalArgumentException naming the item that is wrong.
     */
    public static CidrList parse(String list) {
        List<String> items = new ArrayList<>();
        for (String item : list.split(",")) {
            if (!item.isBlank()) {
                items.add(item.strip());
            }
        }
        if (items.isEmpty()) {
            throw new IllegalArgumentException("no address block in '" + list + "'");
        }
        long[] high = new long[items.size()];
        long[] low = new long[items.size()];
        int[] bits = new int[items.size()];
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i);
            int slash = item.indexOf('/');
            String host = slash < 0 ? item : item.substring(0, slash);
            boolean v6 = host.indexOf(':') >= 0;
            InetAddress a;
            try {
                a = InetAddress.ofLiteral(host);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + item + "' is not an address or CIDR block");
            }
            int max = v6 ? 128 : 32;
            int prefix = max;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(item.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > max) {
                    throw new IllegalArgumentException("'" + item + "': the prefix length must be between 0 and " + max);
                }
            }
            bits[i] = v6 ? prefix : prefix + 96;
            high[i] = high(a) & mask(bits[i]);
            low[i] = low(a) & mask(bits[i] - 64);
            text.append(i == 0 ? "" : ", ").append(host).append('/').append(prefix);
        }
        return new CidrList(high, low, bits, text.toString());
    }

    /** Whether a falls in one of the blocks. */
    public boolean contains(InetAddress a) {
        long h = high(a);
        long l = low(a);
        for (int i = 0; i < bits.length; i++) {
            if ((h & mask(bits[i])) == high[i] && (l & mask(bits[i] - 64)) == low[i]) {
                return true;
            }
        }
        return false;
    }

    /** The upper 64 bits of a's IPv6 form. */
    static long high(InetAddress a) {
        return a instanceof Inet4Address ? 0 : word(a.getAddress(), 0);
    }

    /** The lower 64 bits of a's IPv6 form (an IPv4 address IPv4-mapped). */
    static long low(InetAddress a) {
        byte[] b = a.getAddress();
        return a instanceof Inet4Address ? MAPPED | (word(b, 0) >>> 32) : word(b, 8);
    }

    /** A 64-bit mask of the first n bits (n below 0: none; above 64: all). */
    private static long mask(int n) {
        return n <= 0 ? 0 : n >= 64 ? -1L : -1L << (64 - n);
    }

    /** Eight bytes from off, big-endian; bytes past the end read as 0. */
    private static long word(byte[] b, int off) {
        long w = 0;
        for (int i = 0; i < 8; i++) {
            w = w << 8 | (off + i < b.length ? b[off + i] & 0xFF : 0);
        }
        return w;
    }

    /** The blocks as written back: {@code 127.0.0.0/8, ::1/128}. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CidrList c && java.util.Arrays.equals(high, c.high) && java.util.Arrays.equals(low, c.low)
                && java.util.Arrays.equals(bits, c.bits);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(high) * 31 + java.util.Arrays.hashCode(low) * 17 + java.util.Arrays.hashCode(bits);
    }
}
