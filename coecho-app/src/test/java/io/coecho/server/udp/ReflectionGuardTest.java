package io.coecho.server.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.coecho.runtime.net.PeerAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which sources the guard refuses, read from raw socket addresses; no sockets. */
class ReflectionGuardTest {
    private static final int OWN_PORT = 8080;
    private static final int[] BROADCASTS = {0xC0A8_01FF}; // 192.168.1.255

    private final ReflectionGuard guard = new ReflectionGuard(unlimited().build(), OWN_PORT, BROADCASTS, null);

    /** UDP on, no rate limits: the port and address rules alone. */
    private static UdpConfig.Builder unlimited() {
        return UdpConfig.builder().enabled(true).sourceRate(0).globalRate(0);
    }

    private DropReason check(String host, int port) {
        return guard.check(PeerAddress.of(new InetSocketAddress(host, port)), 0);
    }

    @Test
    void refusesReflectorPortsOurOwnPortAndPrivilegedPorts() {
        for (int p : new int[] {7, 9, 13, 17, 19, 37}) {
            assertEquals(DropReason.REFLECTOR_PORT, check("192.0.2.1", p), "port " + p);
            assertEquals(DropReason.REFLECTOR_PORT, check("2001:db8::1", p), "port " + p);
        }
        assertEquals(DropReason.REFLECTOR_PORT, check("192.0.2.1", OWN_PORT));
        assertEquals(DropReason.PRIVILEGED_PORT, check("192.0.2.1", 0));
        assertEquals(DropReason.PRIVILEGED_PORT, check("192.0.2.1", 53));
        assertEquals(DropReason.PRIVILEGED_PORT, check("192.0.2.1", 1023));
        assertNull(check("192.0.2.1", 1024));
        assertNull(check("2001:db8::1", 65535));
    }

    @Test
    void refusesBroadcastMulticastAndUnspecifiedSourcesInEitherFamily() {
        for (String bad : new String[] {"255.255.255.255", "224.0.0.1", "239.255.255.250", "0.0.0.0", "0.1.2.3",
                "192.168.1.255", "::", "ff02::1", "ff05::1:3", "::ffff:224.0.0.1", "::ffff:255.255.255.255",
                "::ffff:0.0.0.0"}) {
            assertEquals(DropReason.BAD_ADDRESS, check(bad, 40000), bad);
        }
        for (String ok : new String[] {"127.0.0.1", "192.168.1.254", "10.0.0.1", "::1", "2001:db8::1",
                "::ffff:192.0.2.1", "fe80::1"}) {
            assertNull(check(ok, 40000), ok);
        }
    }

    @Test
    void portRulesAreConfigurable() {
        ReflectionGuard open = new ReflectionGuard(
                unlimited().deniedSourcePorts(Set.of(5000)).minSourcePort(1).build(), OWN_PORT,
                new int[0], null);
        assertNull(open.check(PeerAddress.of(new InetSocketAddress("192.0.2.1", 7)), 0));
        assertNull(open.check(PeerAddress.of(new InetSocketAddress("192.0.2.1", 53)), 0));
        assertEquals(DropReason.REFLECTOR_PORT, open.check(PeerAddress.of(new InetSocketAddress("192.0.2.1", 5000)), 0));
        assertEquals(DropReason.PRIVILEGED_PORT, open.check(PeerAddress.of(new InetSocketAddress("192.0.2.1", 0)), 0));
    }

    @Test
    void ratesApplyPerSourceThenGlobally() {
        TokenBucket global = new TokenBucket(1, 3, 0);
        ReflectionGuard g = new ReflectionGuard(
                UdpConfig.builder().enabled(true).sourceRate(1).sourceBurst(2).globalRate(1).globalBurst(3).build(), OWN_PORT,
                new int[0], global);
        PeerAddress a = PeerAddress.of(new InetSocketAddress("192.0.2.1", 40000));
        PeerAddress a2 = PeerAddress.of(new InetSocketAddress("::ffff:192.0.2.1", 40001));
        PeerAddress b = PeerAddress.of(new InetSocketAddress("192.0.2.2", 40000));
        assertNull(g.check(a, 0));
        assertNull(g.check(a2, 0), "same address, other port and form: same bucket");
        assertEquals(DropReason.SOURCE_RATE, g.check(a, 0));
        assertNull(g.check(b, 0));
        assertEquals(DropReason.GLOBAL_RATE, g.check(b, 0), "b has a token left, the server has none");
    }
}
