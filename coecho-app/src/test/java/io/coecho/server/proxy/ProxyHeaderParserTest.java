package io.coecho.server.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The PROXY header parser against HAProxy's doc/proxy-protocol.txt: v1 and v2, IPv4 and IPv6,
 * LOCAL and the families that fall back to the socket's addresses, TLVs, every malformed kind with
 * the reason it is counted under, and every header split at every byte boundary (each prefix must be
 * INCOMPLETE until the header is decided, then give the same answer as the whole).
 */
class ProxyHeaderParserTest {
    private static final byte[] SIG = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] PAYLOAD = "hello\r\n".getBytes(StandardCharsets.US_ASCII);

    private final ProxyHeaderParser parser = new ProxyHeaderParser();
    private final Arena arena = Arena.ofAuto();

    // ---- version 1 ----

    @Test
    void v1Tcp4GivesTheClientAndLeavesThePayload() throws Exception {
        byte[] header = ascii("PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\r\n");
        assertEquals(header.length, parse(concat(header, PAYLOAD)));
        assertEquals(1, parser.version());
        assertFalse(parser.local());
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 56324), parser.source());
        assertEquals("PROXY v1", parser.kind());
    }

    @Test
    void v1Tcp6InEveryTextForm() throws Exception {
        for (String[] c : new String[][] {
                {"2001:db8::1", "2001:db8::1"},
                {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
                {"2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                {"::1", "::1"},
                {"::", "::"},
                {"1::", "1::"},
                {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
                {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
                {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
                {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"}}) {
            byte[] header = ascii("PROXY TCP6 " + c[0] + " 2001:db8::2 65535 0\r\n");
            assertEquals(header.length, parse(header), c[0]);
            assertEquals(new InetSocketAddress(InetAddress.getByName(c[1]), 65535), parser.source(), c[0]);
        }
    }

    @Test
    void v1Ipv4MappedAddressReadsAsIpv4() throws Exception {
        parse(ascii("PROXY TCP6 ::ffff:192.0.2.1 ::ffff:192.0.2.2 1 2\r\n"));
        assertInstanceOf(Inet4Address.class, parser.source().getAddress());
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 1), parser.source());
    }

    @Test
    void v1UnknownUsesTheSocketsAddresses() {
        for (String line : List.of("PROXY UNKNOWN\r\n", "PROXY UNKNOWN anything at all, ignored\r\n",
                "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")) {
            byte[] header = ascii(line);
            assertEquals(header.length, parse(concat(header, PAYLOAD)), line);
            assertTrue(parser.local(), line);
            assertNull(parser.source(), line);
            assertEquals("PROXY v1 UNKNOWN", parser.kind());
        }
    }

    @Test
    void v1LongestLinesFitAndOneByteMoreIsTooLong() {
        // The spec's worst case is exactly 107 bytes, CRLF included.
        String worst = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assertEquals(107, worst.length());
        assertEquals(107, parse(ascii(worst)));
        String longest6 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        assertEquals(104, parse(ascii(longest6)));
        assertRejected(ProxyRejection.TOO_LONG, "PROXY UNKNOWN " + "x".repeat(92) + "\r\n"); // 108 bytes
        assertRejected(ProxyRejection.TOO_LONG, "PROXY TCP4 " + "1".repeat(200));
    }

    @Test
    void v1MalformedLinesAreRejectedAsMalformed() {
        for (String line : List.of(
                "PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\n", // LF without CR
                "PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\r\r\n", // CR without LF
                "PROXY TCP4 192.0.2.1\r198.51.100.7 56324 7\r\n",
                "PROXY  TCP4 192.0.2.1 198.51.100.7 56324 7\r\n", // two spaces
                "PROXY TCP4  192.0.2.1 198.51.100.7 56324 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7  56324 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7 56324 7 \r\n", // trailing space
                "PROXY TCP4 192.0.2.1 198.51.100.7 56324\r\n", // a field missing
                "PROXY TCP4 192.0.2.1 198.51.100.7 56324 7 8\r\n", // one too many
                "PROXY TCP4\r\n",
                "PROXY TCP4 192.0.2.01 198.51.100.7 56324 7\r\n", // leading zero (octal?)
                "PROXY TCP4 192.0.2.256 198.51.100.7 56324 7\r\n",
                "PROXY TCP4 192.0.2 198.51.100.7 56324 7\r\n",
                "PROXY TCP4 192.0.2.1.5 198.51.100.7 56324 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100 56324 7\r\n",
                "PROXY TCP4 2001:db8::1 198.51.100.7 56324 7\r\n", // the family's format only
                "PROXY TCP6 192.0.2.1 2001:db8::2 56324 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7 056324 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7 65536 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7 -1 7\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7 56324 07\r\n",
                "PROXY TCP4 192.0.2.1 198.51.100.7 5a 7\r\n",
                "PROXY TCP6 2001:db8::1::2 2001:db8::2 1 2\r\n", // two "::"
                "PROXY TCP6 1:2:3:4:5:6:7:8:9 2001:db8::2 1 2\r\n",
                "PROXY TCP6 1:2:3:4:5:6:7 2001:db8::2 1 2\r\n", // seven groups, no "::"
                "PROXY TCP6 1:2:3:4:5:6:7:8:: 2001:db8::2 1 2\r\n",
                "PROXY TCP6 12345::1 2001:db8::2 1 2\r\n",
                "PROXY TCP6 2001:db8::1: 2001:db8::2 1 2\r\n",
                "PROXY TCP6 :1 2001:db8::2 1 2\r\n",
                "PROXY TCP6 ::g 2001:db8::2 1 2\r\n",
                "PROXY TCP6 ::ffff:192.0.2.01 2001:db8::2 1 2\r\n",
                "PROXY TCP6 1:2:3:4:5:6:7:192.0.2.1 2001:db8::2 1 2\r\n",
                "PROXY\r\n",
                "PROXYTCP4 192.0.2.1 198.51.100.7 56324 7\r\n",
                "proxy TCP4 192.0.2.1 198.51.100.7 56324 7\r\n",
                "GET / HTTP/1.1\r\n")) {
            assertRejected(ProxyRejection.MALFORMED, line);
        }
    }

    @Test
    void v1ProtocolsOtherThanTcpAndUnknownAreUnsupported() {
        assertRejected(ProxyRejection.UNSUPPORTED, "PROXY UDP4 192.0.2.1 198.51.100.7 56324 7\r\n");
        assertRejected(ProxyRejection.UNSUPPORTED, "PROXY TCP5 192.0.2.1 198.51.100.7 56324 7\r\n");
        assertRejected(ProxyRejection.UNSUPPORTED, "PROXY UNKNOWNX\r\n");
    }

    // ---- version 2 ----

    @Test
    void v2Tcp4GivesTheClient() throws Exception {
        byte[] header = v2(0x21, 0x11, ipv4("192.0.2.1", "198.51.100.7", 56324, 7));
        assertEquals(28, header.length);
        assertEquals(28, parse(concat(header, PAYLOAD)));
        assertEquals(2, parser.version());
        assertFalse(parser.local());
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 56324), parser.source());
        assertEquals("PROXY v2", parser.kind());
    }

    @Test
    void v2Tcp6GivesTheClient() throws Exception {
        byte[] header = v2(0x21, 0x21, ipv6("2001:db8::1", "2001:db8::2", 443, 7));
        assertEquals(52, parse(concat(header, PAYLOAD)));
        assertEquals(new InetSocketAddress(InetAddress.getByName("2001:db8::1"), 443), parser.source());
        parse(v2(0x21, 0x21, ipv6("::ffff:192.0.2.9", "::ffff:192.0.2.2", 1, 2)));
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.9"), 1), parser.source());
        assertInstanceOf(Inet4Address.class, parser.source().getAddress());
    }

    @Test
    void v2TlvsAreSkippedAsTheLengthSays() throws Exception {
        byte[] tlvs = concat(tlv(0x01, ascii("h2")), tlv(0x02, ascii("echo.example")), tlv(0x04, new byte[5]),
                tlv(0x05, new byte[128]), tlv(0x20, new byte[] {1, 0, 0, 0, 0}), tlv(0xE0, new byte[0]));
        byte[] header = v2(0x21, 0x11, concat(ipv4("192.0.2.1", "198.51.100.7", 1000, 7), tlvs));
        assertEquals(header.length, parse(concat(header, PAYLOAD)));
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 1000), parser.source());
        // Only the fixed part and the addresses are needed: the rest may still be on its way.
        assertEquals(header.length, parse(Arrays.copyOf(header, 28)));
        // Garbage in the TLV area is not looked at: the length is all that counts.
        byte[] junk = v2(0x21, 0x11, concat(ipv4("192.0.2.1", "198.51.100.7", 1000, 7), new byte[] {(byte) 0xFF, 0x7F}));
        assertEquals(junk.length, parse(junk));
    }

    @Test
    void v2LocalUsesTheSocketsAddressesWhateverFollows() {
        for (byte[] header : List.of(v2(0x20, 0x00, new byte[0]),
                v2(0x20, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)), // addresses present: still ignored
                v2(0x20, 0x21, new byte[3]), // a LOCAL's family is ignored, its length honoured
                v2(0x20, 0x00, tlv(0x05, new byte[16])))) {
            assertEquals(header.length, parse(concat(header, PAYLOAD)));
            assertTrue(parser.local());
            assertNull(parser.source());
            assertEquals("PROXY v2 LOCAL", parser.kind());
        }
    }

    @Test
    void v2UnspecUnixAndUdpFallBackToTheSocketsAddresses() {
        for (byte[] header : List.of(v2(0x21, 0x00, new byte[0]), v2(0x21, 0x00, new byte[7]),
                v2(0x21, 0x31, new byte[216]), v2(0x21, 0x32, new byte[216]),
                v2(0x21, 0x12, ipv4("192.0.2.1", "198.51.100.7", 1, 2)),
                v2(0x21, 0x22, ipv6("2001:db8::1", "2001:db8::2", 1, 2)),
                v2(0x21, 0x10, new byte[0]), v2(0x21, 0x01, new byte[0]))) {
            assertEquals(header.length, parse(header), hex(header));
            assertTrue(parser.local(), hex(header));
            assertNull(parser.source());
        }
    }

    @Test
    void v2UnknownVersionCommandFamilyOrTransportIsUnsupported() {
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x11, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x31, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x01, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x22, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x2F, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x21, 0x41, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x21, 0xF1, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x21, 0x13, ipv4("192.0.2.1", "198.51.100.7", 1, 2)));
        assertRejected(ProxyRejection.UNSUPPORTED, v2(0x20, 0x53, new byte[0])); // checked for LOCAL too
    }

    @Test
    void v2MalformedSignatureOrShortAddressesAreMalformed() {
        byte[] good = v2(0x21, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2));
        for (int i = 1; i < SIG.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x20;
            assertRejected(ProxyRejection.MALFORMED, bad);
        }
        assertRejected(ProxyRejection.MALFORMED, v2(0x21, 0x11, new byte[11]));
        assertRejected(ProxyRejection.MALFORMED, v2(0x21, 0x21, new byte[35]));
        assertRejected(ProxyRejection.MALFORMED, v2(0x21, 0x31, new byte[215]));
        assertRejected(ProxyRejection.MALFORMED, ascii("\r\nGET / HTTP/1.1\r\n"));
        assertRejected(ProxyRejection.MALFORMED, new byte[] {0x16, 0x03, 0x01, 0x00}); // a TLS hello
    }

    @Test
    void v2LengthIsBoundedAt16KiB() {
        byte[] longest = v2(0x21, 0x11, concat(ipv4("192.0.2.1", "198.51.100.7", 1, 2), new byte[16 * 1024 - 16 - 12]));
        assertEquals(16 * 1024, longest.length);
        assertEquals(16 * 1024, parse(Arrays.copyOf(longest, 64)));
        byte[] over = Arrays.copyOf(longest, 16);
        over[14] = 0x3F;
        over[15] = (byte) 0xF1; // 16 + 16369
        assertRejected(ProxyRejection.TOO_LONG, over);
        over[14] = (byte) 0xFF;
        over[15] = (byte) 0xFF;
        assertRejected(ProxyRejection.TOO_LONG, over);
    }

    // ---- either ----

    @Test
    void anythingElseIsMalformedAtItsFirstByte() {
        for (String start : List.of("G", "\0", "SSH-2.0", " PROXY")) {
            assertRejected(ProxyRejection.MALFORMED, ascii(start));
        }
        assertEquals(ProxyHeaderParser.INCOMPLETE, parse(new byte[0]));
    }

    @Test
    void everyHeaderSplitAtEveryByteBoundaryGivesTheSameAnswer() {
        List<byte[]> headers = List.of(
                ascii("PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\r\n"),
                ascii("PROXY TCP6 2001:db8::1 2001:db8::2 65535 7\r\n"),
                ascii("PROXY UNKNOWN\r\n"),
                v2(0x21, 0x11, ipv4("192.0.2.1", "198.51.100.7", 56324, 7)),
                v2(0x21, 0x21, concat(ipv6("2001:db8::1", "2001:db8::2", 443, 7), tlv(0x02, ascii("sni")))),
                v2(0x20, 0x00, new byte[0]),
                v2(0x20, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)),
                // malformed ones: the same reason however they arrive
                ascii("PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\n"),
                ascii("PROXY TCP4 192.0.2.1 198.51.100.7 56324 7\r\r\n"),
                ascii("PROXY TCP4 192.0.2.256 198.51.100.7 56324 7\r\n"),
                ascii("PROXY UDP4 192.0.2.1 198.51.100.7 56324 7\r\n"),
                ascii("PROXY TCP4 " + "9".repeat(120)),
                v2(0x31, 0x11, ipv4("192.0.2.1", "198.51.100.7", 1, 2)),
                v2(0x21, 0x11, new byte[11]),
                concat(Arrays.copyOf(SIG, 11), new byte[] {0x0B}));
        for (byte[] h : headers) {
            byte[] withPayload = concat(h, PAYLOAD);
            int whole = parse(withPayload);
            ProxyRejection why = parser.rejection();
            boolean decided = false;
            for (int k = 0; k <= withPayload.length; k++) {
                int r = parse(Arrays.copyOf(withPayload, k));
                if (r == ProxyHeaderParser.INCOMPLETE) {
                    assertFalse(decided, "INCOMPLETE again after a decision, at " + k + " bytes of " + hex(h));
                    assertTrue(k < ProxyHeaderParser.MAX_INCOMPLETE, k + " bytes still INCOMPLETE: " + hex(h));
                    continue;
                }
                decided = true;
                assertEquals(whole, r, "at " + k + " bytes of " + hex(h));
                assertEquals(why, parser.rejection(), "at " + k + " bytes of " + hex(h));
            }
            assertTrue(decided, hex(h));
        }
    }

    @Test
    void resultsOfOneParseDoNotLeakIntoTheNext() {
        parse(v2(0x21, 0x21, ipv6("2001:db8::1", "2001:db8::2", 443, 7)));
        assertFalse(parser.local());
        parse(v2(0x20, 0x00, new byte[0]));
        assertTrue(parser.local());
        assertNull(parser.source());
        parse(ascii("GET /"));
        assertEquals(ProxyRejection.MALFORMED, parser.rejection());
        assertEquals(0, parser.version());
        parse(ascii("PROXY TCP4 192.0.2.1 198.51.100.7 1 2\r\n"));
        assertNull(parser.rejection());
        assertNull(parser.problem());
    }

    // ---- helpers ----

    private int parse(byte[] bytes) {
        // In native memory with room to spare, as the engines' buffers are.
        MemorySegment buf = arena.allocate(Math.max(bytes.length, 1) + 64);
        MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return parser.parse(buf, bytes.length);
    }

    private void assertRejected(ProxyRejection why, String line) {
        assertRejected(why, ascii(line));
    }

    private void assertRejected(ProxyRejection why, byte[] bytes) {
        assertEquals(ProxyHeaderParser.REJECTED, parse(bytes), hex(bytes));
        assertEquals(why, parser.rejection(), hex(bytes) + ": " + parser.problem());
        assertTrue(parser.problem() != null && !parser.problem().isEmpty());
    }

    static byte[] v2(int verCmd, int famProto, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(SIG);
        out.write(verCmd);
        out.write(famProto);
        out.write(body.length >>> 8);
        out.write(body.length & 0xFF);
        out.writeBytes(body);
        return out.toByteArray();
    }

    static byte[] ipv4(String src, String dst, int srcPort, int dstPort) {
        return concat(addr(src), addr(dst), port(srcPort), port(dstPort));
    }

    static byte[] ipv6(String src, String dst, int srcPort, int dstPort) {
        return concat(addr16(src), addr16(dst), port(srcPort), port(dstPort));
    }

    static byte[] tlv(int type, byte[] value) {
        return concat(new byte[] {(byte) type, (byte) (value.length >>> 8), (byte) value.length}, value);
    }

    private static byte[] addr(String a) {
        return InetAddress.ofLiteral(a).getAddress();
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

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(x >= 0x20 && x < 0x7F ? String.valueOf((char) x) : String.format("\\x%02x", x & 0xFF));
        }
        return s.toString();
    }
}
