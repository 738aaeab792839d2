package io.coecho.server.proxy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * The receiving side of the PROXY protocol, versions 1 and 2, as HAProxy's doc/proxy-protocol.txt
 * specifies it: reads the header a balancer sends before a connection's first byte, in place, in the
 * buffer the connection reads into, and says how long it is and whose connection it stands for.
 * Every engine uses this one parser.
 *
 * <pre>
 *  v1   PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\r\n        text, at most 107 bytes with the CRLF
 *       PROXY TCP6 2001:db8::1 2001:db8::2 56324 7\r\n
 *       PROXY UNKNOWN[ anything]\r\n                         the socket's own addresses
 *
 *  v2   0            12        13         14    16            16 + len
 *       +------------+---------+----------+-----+-------------+------------------+
 *       | signature  | ver|cmd | fam|prot | len | addresses   | TLVs (skipped)   |
 *       +------------+---------+----------+-----+-------------+------------------+
 *        \r\n\r\n\0\r\nQUIT\n   2 | 0 LOCAL (the socket's addresses), 1 PROXY
 *                                  0x11 TCP/IPv4: src, dst (4 bytes each), sport, dport = 12 bytes
 *                                  0x21 TCP/IPv6: src, dst (16 bytes each), sport, dport = 36 bytes
 *                                  UNSPEC, UNIX, UDP: the socket's own addresses (spec: fall back)
 * </pre>
 *
 * <p>How to use it: call {@link #parse} with every byte the connection has received so far, from
 * its first, each time more arrive. It answers
 * <ul>
 *   <li>{@link #INCOMPLETE}: not enough bytes to decide; read more and call again with all of them
 *       (this happens only below {@link #MAX_INCOMPLETE} bytes);
 *   <li>{@link #REJECTED}: close the connection; {@link #rejection()} says why, {@link #problem()}
 *       in a few words;
 *   <li>the header's length: the connection's own bytes begin there. For a v2 header with TLVs it
 *       may exceed the bytes given: the rest of the header is to be read and discarded (the parser
 *       has seen all it needs). {@link #local()} and {@link #source()} then say whose connection it is.
 * </ul>
 * A malformed start is rejected as soon as it is seen, not when the header should be complete. The
 * length field of v2 is always honoured: whatever follows the address block is skipped, never
 * interpreted. TLVs are not checked (the spec lets a receiver ignore them; CRC32C is not verified).
 *
 * <p>Allocation: none while parsing; {@link #source()} builds an address object when asked. Not
 * thread-safe, but holds nothing between calls that a caller needs beyond the next call: one
 * instance serves a whole event loop, whose connections take turns. The results of a call are
 * valid until the next one.
 */
public final class ProxyHeaderParser {
    /** parse: more bytes are needed. */
    public static final int INCOMPLETE = 0;
    /** parse: refused; see {@link #rejection()}. */
    public static final int REJECTED = -1;
    /** The longest v1 line, CRLF included (spec 2.1: "PROXY UNKNOWN" with two full IPv6 addresses). */
    public static final int V1_MAX_LENGTH = 107;
    /**
     * The longest v2 header accepted, the 16 fixed bytes included: 16 KiB, the bound HAProxy itself
     * receives a header within (its default tune.bufsize). The length field allows 16 + 65535; real
     * senders add at most a few hundred bytes of TLVs (ALPN, SNI, a unique ID, TLS names, cloud
     * endpoint IDs), so anything near the field's maximum is garbage or an attempt to make the server
     * read on for nothing.
     */
    public static final int V2_MAX_LENGTH = 16 * 1024;
    /**
     * parse never answers {@link #INCOMPLETE} for this many bytes or more: a v1 line has its CRLF
     * within 107 bytes, a v2 header shows its fixed part and addresses within 16 + 36. A caller that
     * must keep an incomplete header aside needs this much room.
     */
    public static final int MAX_INCOMPLETE = V1_MAX_LENGTH;
    /** The smallest read buffer a connection may parse in: it must hold an incomplete header and more. */
    public static final int MIN_BUFFER = 128;

    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_SIGNATURE = {'P', 'R', 'O', 'X', 'Y', ' '};
    private static final int V2_FIXED = 16;
    private static final long MAPPED = 0x0000_FFFF_0000_0000L;
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort NET_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NET_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong NET_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private int version;
    private boolean local;
    private boolean ipv6;
    private long sourceHigh;
    private long sourceLow;
    private int sourcePort;
    private ProxyRejection rejection;
    private String problem;
    /** Scratch for IPv6 text: the groups seen so far. */
    private final int[] groups = new int[8];

    /**
     * Parses in[0, length), the connection's first bytes: {@link #INCOMPLETE}, {@link #REJECTED}, or
     * the header's length (see the class comment).
     */
    public int parse(MemorySegment in, int length) {
        version = 0;
        local = false;
        ipv6 = false;
        sourceHigh = 0;
        sourceLow = 0;
        sourcePort = 0;
        rejection = null;
        problem = null;
        if (length <= 0) {
            return INCOMPLETE;
        }
        byte first = in.get(BYTE, 0);
        if (first == V2_SIGNATURE[0]) {
            return parseV2(in, length);
        }
        if (first == V1_SIGNATURE[0]) {
            return parseV1(in, length);
        }
        return reject(ProxyRejection.MALFORMED, "neither a v1 nor a v2 signature");
    }

    /** 1 or 2, once a header was accepted. */
    public int version() {
        return version;
    }

    /**
     * True when the header carries no client address to use (v2 LOCAL, a balancer's own health
     * check; v2 UNSPEC, UNIX or UDP; v1 UNKNOWN): the connection's own addresses stand.
     */
    public boolean local() {
        return local;
    }

    /**
     * The client's address and port from the header, an IPv4-mapped IPv6 address as IPv4; null when
     * {@link #local()}. Builds the object: not for a hot path.
     */
    public InetSocketAddress source() {
        if (version == 0 || local) {
            return null;
        }
        byte[] b;
        if (ipv6 && !(sourceHigh == 0 && (sourceLow & 0xFFFF_FFFF_0000_0000L) == MAPPED)) {
            b = new byte[16];
            for (int i = 0; i < 8; i++) {
                b[i] = (byte) (sourceHigh >>> (56 - 8 * i));
                b[8 + i] = (byte) (sourceLow >>> (56 - 8 * i));
            }
        } else {
            int ip = (int) sourceLow;
            b = new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(b), sourcePort);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // 4 or 16 bytes: cannot happen
        }
    }

    /** What the header was, for a log line: {@code PROXY v2}, {@code PROXY v2 LOCAL}, {@code PROXY v1 UNKNOWN}. */
    public String kind() {
        if (version == 1) {
            return local ? "PROXY v1 UNKNOWN" : "PROXY v1";
        }
        return local ? "PROXY v2 LOCAL" : "PROXY v2";
    }

    /** Why the last parse answered {@link #REJECTED}; null otherwise. */
    public ProxyRejection rejection() {
        return rejection;
    }

    /** What was wrong, in a few words (a constant: no allocation); null unless rejected. */
    public String problem() {
        return problem;
    }

    private int reject(ProxyRejection why, String what) {
        rejection = why;
        problem = what;
        return REJECTED;
    }

    // ---- version 2 ----

    private int parseV2(MemorySegment in, int length) {
        for (int i = 0, n = Math.min(length, V2_SIGNATURE.length); i < n; i++) {
            if (in.get(BYTE, i) != V2_SIGNATURE[i]) {
                return reject(ProxyRejection.MALFORMED, "not the v2 signature");
            }
        }
        if (length <= 12) {
            return INCOMPLETE;
        }
        int verCmd = in.get(BYTE, 12) & 0xFF;
        if (verCmd >>> 4 != 2) {
            return reject(ProxyRejection.UNSUPPORTED, "v2 header of another version");
        }
        int command = verCmd & 0x0F;
        if (command > 1) {
            return reject(ProxyRejection.UNSUPPORTED, "v2 command neither LOCAL nor PROXY");
        }
        if (length <= 13) {
            return INCOMPLETE;
        }
        int famProto = in.get(BYTE, 13) & 0xFF;
        if (famProto >>> 4 > 3) {
            return reject(ProxyRejection.UNSUPPORTED, "v2 address family unknown");
        }
        if ((famProto & 0x0F) > 2) {
            return reject(ProxyRejection.UNSUPPORTED, "v2 transport protocol unknown");
        }
        if (length < V2_FIXED) {
            return INCOMPLETE;
        }
        int len = (in.get(BYTE, 14) & 0xFF) << 8 | in.get(BYTE, 15) & 0xFF;
        int total = V2_FIXED + len;
        if (total > V2_MAX_LENGTH) {
            return reject(ProxyRejection.TOO_LONG, "v2 header longer than 16 KiB");
        }
        if (command == 0) {
            // LOCAL: the balancer's own connection (a health check); the family and any address
            // block are ignored, the length still says how much to skip.
            version = 2;
            local = true;
            return total;
        }
        int family = famProto >>> 4;
        int addresses = switch (family) {
            case 1 -> 12;
            case 2 -> 36;
            case 3 -> 216;
            default -> 0;
        };
        if ((famProto & 0x0F) != 0 && len < addresses) {
            return reject(ProxyRejection.MALFORMED, "v2 address block shorter than its family needs");
        }
        if (famProto != 0x11 && famProto != 0x21) {
            // UNSPEC, UNIX, UDP, or a family without a transport: the spec lets a receiver that does
            // not implement these fall back to the connection's own addresses, as for LOCAL.
            version = 2;
            local = true;
            return total;
        }
        if (length < V2_FIXED + addresses) {
            return INCOMPLETE;
        }
        version = 2;
        if (famProto == 0x11) {
            sourceHigh = 0;
            sourceLow = MAPPED | Integer.toUnsignedLong(in.get(NET_INT, V2_FIXED));
            sourcePort = Short.toUnsignedInt(in.get(NET_SHORT, V2_FIXED + 8));
        } else {
            ipv6 = true;
            sourceHigh = in.get(NET_LONG, V2_FIXED);
            sourceLow = in.get(NET_LONG, V2_FIXED + 8);
            sourcePort = Short.toUnsignedInt(in.get(NET_SHORT, V2_FIXED + 32));
        }
        return total;
    }

    // ---- version 1 ----

    private int parseV1(MemorySegment in, int length) {
        for (int i = 0, n = Math.min(length, V1_SIGNATURE.length); i < n; i++) {
            if (in.get(BYTE, i) != V1_SIGNATURE[i]) {
                return reject(ProxyRejection.MALFORMED, "not the v1 signature");
            }
        }
        // Exactly one space between fields. The line ends at the first LF, which must follow a CR and lie within 107 bytes; a CR
        // followed by anything but LF is malformed (spec: no lone CR or LF ends a line).
        int lf = -1;
        for (int i = V1_SIGNATURE.length, n = Math.min(length, V1_MAX_LENGTH); i < n; i++) {
            byte b = in.get(BYTE, i);
            if (b == '\n') {
                if (in.get(BYTE, i - 1) != '\r') {
                    return reject(ProxyRejection.MALFORMED, "v1 line ends in LF without CR");
                }
                lf = i;
                break;
            }
            if (b == '\r' && i + 1 < length && in.get(BYTE, i + 1) != '\n') {
                return reject(ProxyRejection.MALFORMED, "v1 line has a CR without LF");
            }
        }
        if (lf < 0) {
            return length >= V1_MAX_LENGTH ? reject(ProxyRejection.TOO_LONG, "v1 line without CRLF in 107 bytes")
                    : INCOMPLETE;
        }
        int end = lf - 1; // the CR
        int p = V1_SIGNATURE.length;
        int q = indexOfSpace(in, p, end);
        int protocolEnd = q < 0 ? end : q;
        if (matches(in, p, protocolEnd, "UNKNOWN")) {
            // The sender could not fill the line (or sends a check): the receiver ignores the rest
            // and uses the connection's own addresses.
            version = 1;
            local = true;
            return lf + 1;
        }
        boolean v6;
        if (matches(in, p, protocolEnd, "TCP4")) {
            v6 = false;
        } else if (matches(in, p, protocolEnd, "TCP6")) {
            v6 = true;
        } else {
            return reject(protocolEnd == p ? ProxyRejection.MALFORMED : ProxyRejection.UNSUPPORTED,
                    "v1 protocol neither TCP4, TCP6 nor UNKNOWN");
        }
        return fields(in, protocolEnd, end, v6, lf);
    }

    /** The four fields after the protocol, from at (a space) to end (the CR). */
    private int fields(MemorySegment in, int at, int end, boolean v6, int lf) {
        if (at >= end) {
            return reject(ProxyRejection.MALFORMED, "v1 line without addresses");
        }
        int p = at + 1;
        int q = indexOfSpace(in, p, end);
        if (q < 0 || !address(in, p, q, v6, true)) {
            return reject(ProxyRejection.MALFORMED, "v1 source address malformed");
        }
        p = q + 1;
        q = indexOfSpace(in, p, end);
        if (q < 0 || !address(in, p, q, v6, false)) {
            return reject(ProxyRejection.MALFORMED, "v1 destination address malformed");
        }
        p = q + 1;
        q = indexOfSpace(in, p, end);
        int port = q < 0 ? -1 : port(in, p, q);
        if (port < 0) {
            return reject(ProxyRejection.MALFORMED, "v1 source port malformed");
        }
        if (port(in, q + 1, end) < 0) {
            return reject(ProxyRejection.MALFORMED, "v1 destination port malformed");
        }
        version = 1;
        ipv6 = v6;
        sourcePort = port;
        return lf + 1;
    }

    private static int indexOfSpace(MemorySegment in, int from, int to) {
        for (int i = from; i < to; i++) {
            if (in.get(BYTE, i) == ' ') {
                return i;
            }
        }
        return -1;
    }

    private static boolean matches(MemorySegment in, int from, int to, String word) {
        if (to - from != word.length()) {
            return false;
        }
        for (int i = 0; i < word.length(); i++) {
            if (in.get(BYTE, from + i) != word.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** A decimal port, 0 to 65535, without leading zeros; -1 if malformed. */
    private static int port(MemorySegment in, int from, int to) {
        int n = to - from;
        if (n < 1 || n > 5 || (n > 1 && in.get(BYTE, from) == '0')) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < to; i++) {
            int d = in.get(BYTE, i) - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v <= 65535 ? v : -1;
    }

    /** Parses an address of the family; keeps it as the source when keep. */
    private boolean address(MemorySegment in, int from, int to, boolean v6, boolean keep) {
        if (!v6) {
            long ip = ipv4(in, from, to);
            if (ip < 0) {
                return false;
            }
            if (keep) {
                sourceHigh = 0;
                sourceLow = MAPPED | ip;
            }
            return true;
        }
        return ipv6(in, from, to, keep);
    }

    /**
     * Four decimal numbers 0 to 255 joined by single dots, none with a leading zero (spec: no
     * confusion with octal); the address as an unsigned 32-bit value, or -1.
     */
    private static long ipv4(MemorySegment in, int from, int to) {
        long ip = 0;
        int parts = 0;
        int p = from;
        while (true) {
            int start = p;
            int v = 0;
            while (p < to && p - start < 3) {
                int d = in.get(BYTE, p) - '0';
                if (d < 0 || d > 9) {
                    break;
                }
                v = v * 10 + d;
                p++;
            }
            int digits = p - start;
            if (digits == 0 || v > 255 || (digits > 1 && in.get(BYTE, start) == '0')) {
                return -1;
            }
            ip = ip << 8 | v;
            parts++;
            if (parts == 4) {
                return p == to ? ip : -1;
            }
            if (p >= to || in.get(BYTE, p) != '.') {
                return -1;
            }
            p++;
        }
    }

    /**
     * An IPv6 address in text: eight groups of one to four hex digits joined by colons, one "::"
     * standing for one or more zero groups, the last 32 bits optionally as a dotted IPv4 address
     * (::ffff:192.0.2.1, as inet_ntop writes an IPv4-mapped address).
     */
    private boolean ipv6(MemorySegment in, int from, int to, boolean keep) {
        int n = 0;
        int gap = -1;
        int p = from;
        if (to - from < 2) {
            return false;
        }
        if (in.get(BYTE, p) == ':') {
            if (in.get(BYTE, p + 1) != ':') {
                return false;
            }
            gap = 0;
            p += 2;
        }
        while (p < to) {
            int start = p;
            int v = 0;
            while (p < to && p - start < 5) {
                int d = Character.digit(in.get(BYTE, p), 16);
                if (d < 0) {
                    break;
                }
                v = v << 4 | d;
                p++;
            }
            if (p < to && in.get(BYTE, p) == '.') {
                // The dotted tail: the last 32 bits, to the end of the field.
                long ip = n <= 6 ? ipv4(in, start, to) : -1;
                if (ip < 0) {
                    return false;
                }
                groups[n++] = (int) (ip >>> 16);
                groups[n++] = (int) (ip & 0xFFFF);
                p = to;
                break;
            }
            int digits = p - start;
            if (digits == 0 || digits > 4 || n == 8) {
                return false;
            }
            groups[n++] = v;
            if (p == to) {
                break;
            }
            if (in.get(BYTE, p) != ':') {
                return false;
            }
            p++;
            if (p < to && in.get(BYTE, p) == ':') {
                if (gap >= 0) {
                    return false;
                }
                gap = n;
                p++;
            } else if (p == to) {
                return false; // a single trailing colon
            }
        }
        if (gap < 0 ? n != 8 : n > 7) {
            return false;
        }
        if (keep) {
            long high = 0;
            long low = 0;
            int zeros = 8 - n;
            for (int i = 0, g = 0; i < 8; i++) {
                int value;
                if (gap >= 0 && i >= gap && i < gap + zeros) {
                    value = 0;
                } else {
                    value = groups[g++];
                }
                if (i < 4) {
                    high = high << 16 | value;
                } else {
                    low = low << 16 | value;
                }
            }
            sourceHigh = high;
            sourceLow = low;
        }
        return true;
    }
}
