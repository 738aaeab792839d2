package io.coecho.server.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrListTest {

    @Test
    void loopbackIsTheDefaultAndCoversBothFamilies() {
        assertTrue(contains(CidrList.LOOPBACK, "127.0.0.1"));
        assertTrue(contains(CidrList.LOOPBACK, "127.255.0.9"));
        assertTrue(contains(CidrList.LOOPBACK, "::1"));
        assertTrue(contains(CidrList.LOOPBACK, "::ffff:127.0.0.1"), "an IPv4 peer of a dual-stack socket");
        assertFalse(contains(CidrList.LOOPBACK, "128.0.0.1"));
        assertFalse(contains(CidrList.LOOPBACK, "::2"));
        assertFalse(contains(CidrList.LOOPBACK, "10.0.0.1"));
        assertEquals("127.0.0.0/8, ::1/128", CidrList.LOOPBACK.toString());
    }

    @Test
    void blocksAndSingleAddresses() {
        CidrList l = CidrList.parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,fe80::/10 ");
        assertTrue(contains(l, "10.200.3.4"));
        assertTrue(contains(l, "192.0.2.7"));
        assertFalse(contains(l, "192.0.2.8"));
        assertTrue(contains(l, "2001:db8:ffff::1"));
        assertFalse(contains(l, "2001:db9::1"));
        assertTrue(contains(l, "febf::1"));
        assertFalse(contains(l, "fec0::1"));
        assertTrue(contains(CidrList.parse("0.0.0.0/0"), "203.0.113.1"));
        assertFalse(contains(CidrList.parse("0.0.0.0/0"), "2001:db8::1"));
        assertTrue(contains(CidrList.parse("::/0"), "2001:db8::1"));
        assertTrue(contains(CidrList.parse("::/0"), "203.0.113.1"), "IPv4 is inside ::/0 as ::ffff:0:0/96");
        assertTrue(contains(CidrList.parse("10.1.2.3/8"), "10.9.9.9"), "host bits below the prefix are ignored");
        assertTrue(contains(CidrList.parse("::ffff:10.0.0.0/104"), "10.3.3.3"));
    }

    @Test
    void badItemsAreNamed() {
        for (String bad : new String[] {"", " , ", "localhost", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/x",
                "10.0.0.256"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CidrList.parse(bad), bad);
            assertTrue(e.getMessage().contains(bad.strip()) || bad.isBlank(), e.getMessage());
        }
    }

    private static boolean contains(CidrList l, String address) {
        return l.contains(InetAddress.ofLiteral(address));
    }
}
