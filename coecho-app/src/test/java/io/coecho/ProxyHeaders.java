package io.coecho;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * PROXY protocol headers as a balancer sends them (HAProxy's doc/proxy-protocol.txt), for tests:
 * v1 lines and v2 binary headers with their address blocks and TLVs.
 *
 * <p>Stateless; any thread.
 */
public final class ProxyHeaders {
    public static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    /** v2 version and command: PROXY and LOCAL. */
    public static final int PROXY = 0x21;
    public static final int LOCAL = 0x20;
    /** v2 family and transport: TCP over IPv4, TCP over IPv6, unspecified. */
    public static final int TCP4 = 0x11;
    public static final int TCP6 = 0x21;
    public static final int UNSPEC = 0x00;

    private ProxyHeaders() {}

    /** A v1 line: "PROXY TCP4 src dst sport dport\r\n" (TCP6 when src is IPv6). */
    public static byte[] v1(String src, String dst, int srcPort, int dstPort) {
        String family = src.indexOf(':') >= 0 ? "TCP6" : "TCP4";
        return ascii("PROXY " + family + " " + src + " " + dst + " " + srcPort + " " + dstPort + "\r\n");
    }

    /** A v2 header: the signature, verCmd, famProto, the length of body, then body. */
    public static byte[] v2(int verCmd, int famProto, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(V2_SIGNATURE);
        out.write(verCmd);
        out.write(famProto);
        out.write(body.length >>> 8);
        out.write(body.length & 0xFF);
        out.writeBytes(body);
        return out.toByteArray();
    }

    /** A v2 PROXY header for TCP from src:srcPort to dst:dstPort (IPv4 or IPv6 as src is), with tlvs after the addresses. */
    public static byte[] v2(String src, String dst, int srcPort, int dstPort, byte[]... tlvs) {
        boolean v6 = src.indexOf(':') >= 0;
        byte[] addresses = v6 ? concat(addr16(src), addr16(dst), port(srcPort), port(dstPort))
                : concat(addr4(src), addr4(dst), port(srcPort), port(dstPort));
        return v2(PROXY, v6 ? TCP6 : TCP4, concat(addresses, concat(tlvs)));
    }

    /** A v2 LOCAL header, as a balancer's health check sends it. */
    public static byte[] v2Local() {
        return v2(LOCAL, UNSPEC, new byte[0]);
    }

    /** One TLV: type, 16-bit length, value. */
    public static byte[] tlv(int type, byte[] value) {
        return concat(new byte[] {(byte) type, (byte) (value.length >>> 8), (byte) value.length}, value);
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] addr4(String a) {
        byte[] b = InetAddress.ofLiteral(a).getAddress();
        if (b.length != 4) {
            throw new IllegalArgumentException("not IPv4: " + a);
        }
        return b;
    }

    private static byte[] addr16(String a) {
        byte[] b = InetAddress.ofLiteral(a).getAddress();
        if (b.length == 16) {
            return b;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(b, 0, mapped, 12, 4);
        return mapped;
    }

    private static byte[] port(int p) {
        return new byte[] {(byte) (p >>> 8), (byte) p};
    }
}
