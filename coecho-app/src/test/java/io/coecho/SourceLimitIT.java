package io.coecho;

import static io.coecho.ProxyHeaders.ascii;
import static io.coecho.ProxyHeaders.concat;
import static io.coecho.ProxyHeaders.v1;
import static io.coecho.ProxyHeaders.v2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.LogCapture;
import io.coecho.server.Engine;
import io.coecho.server.ServerStats;
import io.coecho.server.proxy.CidrList;
import io.coecho.server.proxy.ProxyConfig;
import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * --max-connections-per-source: beyond the limit a source's new connection is closed at once and
 * counted, other sources are not affected, and a closed connection frees its slot. The source is the
 * peer's address, or under --proxy-protocol the client the header names (LOCAL: the peer). With
 * several loops (SO_REUSEPORT spreading one source's connections over them) the limit still holds
 * for the whole server.
 */
class SourceLimitIT {
    private static final byte[] HI = ascii("hi\n");

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void thePeersAddressIsLimited(ServerTarget target) throws Exception {
        try (LogCapture log = LogCapture.start(Level.FINE);
                TestServer server = TestServer.start(target, c -> c.maxConnectionsPerSource(2));
                Socket first = server.connect();
                Socket second = server.connect()) {
            Traffic.echo(first, HI, target + ": first");
            Traffic.echo(second, HI, target + ": second");
            try (Socket third = server.connect()) {
                third.getOutputStream().write(HI);
                ProxyProtocolIT.assertClosedUnechoed(third, target + ": a third from 127.0.0.1");
            }
            server.awaitStats("one refused", s -> s.sourceLimited() == 1);
            LogLines.await(log, 0, Pattern.compile(
                    "127\\.0\\.0\\.1:\\d+(, |: )closed at once \\(--max-connections-per-source 2 open\\)"));
            first.close();
            // The refused one and the first: its slot is free once it is counted closed.
            server.awaitStats("the first closed", s -> s.closed() == 2);
            try (Socket fourth = server.connect()) {
                Traffic.echo(fourth, HI, target + ": a slot freed");
            }
            Traffic.echo(second, HI, target + ": the second, still served");
            assertEquals(1, server.server().stats().sourceLimited(), target + ": " + server.server().stats());
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void theProxyHeadersClientIsLimited(ServerTarget target) throws Exception {
        try (LogCapture log = LogCapture.start(Level.FINE);
                TestServer server = TestServer.start(target,
                        c -> c.maxConnectionsPerSource(1).proxy(ProxyConfig.from(CidrList.LOOPBACK)));
                Socket a = server.connect();
                Socket b = server.connect();
                Socket local = server.connect()) {
            a.getOutputStream().write(v2("192.0.2.1", "198.51.100.7", 1001, 7));
            Traffic.echo(a, HI, target + ": 192.0.2.1's first");
            b.getOutputStream().write(v1("192.0.2.2", "198.51.100.7", 1002, 7));
            Traffic.echo(b, HI, target + ": 192.0.2.2, another source behind the same balancer");
            // The balancer's own health check (LOCAL) counts for the balancer: a source of its own.
            local.getOutputStream().write(ProxyHeaders.v2Local());
            Traffic.echo(local, HI, target + ": the balancer's own connection");
            try (Socket again = server.connect()) {
                again.getOutputStream().write(concat(v1("192.0.2.1", "198.51.100.7", 1003, 7), HI));
                closedUnechoed(again, target + ": 192.0.2.1's second");
            }
            try (Socket again = server.connect()) {
                again.getOutputStream().write(concat(ProxyHeaders.v2Local(), HI));
                closedUnechoed(again, target + ": the balancer's second own connection");
            }
            ServerStats s = server.awaitStats("two refused", st -> st.sourceLimited() == 2);
            assertEquals(0, s.proxyRejected().total(), target + ": the headers were fine: " + s);
            LogLines.await(log, 0, Pattern.compile(LogLines.address("192.0.2.1", 1003)
                    + "(, |: )closed at once \\(--max-connections-per-source 1 open\\)"));
            Traffic.echo(a, HI, target + ": the first, still served");
        }
    }

    @ParameterizedTest(allowZeroInvocations = true) // none when -Dcoecho.targets names no coroutine target
    @MethodSource("coroutineTargets")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void theLimitHoldsAcrossLoops(ServerTarget target) throws Exception {
        int limit = 2;
        List<Socket> open = new ArrayList<>();
        try (TestServer server = TestServer.start(target, c -> c.threads(2).maxConnectionsPerSource(limit))) {
            int served = 0;
            int refused = 0;
            // Connect until SO_REUSEPORT has put connections on both loops (each lands by a hash of
            // its ports: all on one loop after n tries has odds of 2^-(n-1)), and past the limit.
            for (int i = 0; i < 40 && (open.size() < 2 * limit + 2 || !bothLoopsAccepted(server)); i++) {
                Socket c = server.connect();
                open.add(c);
                if (echoed(c)) {
                    served++;
                } else {
                    refused++;
                }
            }
            assertTrue(bothLoopsAccepted(server), target + ": SO_REUSEPORT never used the second loop: "
                    + server.server().statsByLoop());
            assertEquals(limit, served, target + ": served across both loops; by loop " + server.server().statsByLoop());
            int refusedNow = refused;
            server.awaitStats("the rest refused", s -> s.sourceLimited() == refusedNow);
        } finally {
            for (Socket c : open) {
                c.close();
            }
        }
    }

    static Stream<ServerTarget> coroutineTargets() {
        return ServerTarget.selected().stream().filter(t -> t.config().build().engine() == Engine.COROUTINES);
    }

    private static boolean bothLoopsAccepted(TestServer server) {
        return server.server().statsByLoop().stream().allMatch(s -> s.accepted() > 0);
    }

    /** An echo of one line, or the server's close (EOF or reset, nothing echoed): which one. */
    private static boolean echoed(Socket c) throws IOException {
        c.getOutputStream().write(HI);
        try {
            int b = c.getInputStream().read();
            if (b < 0) {
                return false;
            }
            Traffic.readFully(c.getInputStream(), HI.length - 1);
            return true;
        } catch (java.net.SocketException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("reset"), e.toString());
            return false;
        }
    }

    private static void closedUnechoed(Socket c, String what) throws IOException {
        ProxyProtocolIT.assertClosedUnechoed(c, what);
    }
}
