package io.coecho.server;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;

/**
 * Checks, before a group of SO_REUSEPORT sockets binds a fixed port, that nothing else holds it: the
 * kernel lets sockets of the same user join an existing group silently, so a second server would
 * start without error and split the first one's traffic. A plain bind, without SO_REUSEPORT, is
 * refused by any socket bound there, and is released at once.
 *
 * <p>Stateless; any thread (start-up).
 */
public final class PortProbe {
    private PortProbe() {}

    /** Fails with "address already in use" if another socket listens on address (TCP), or with why it cannot bind. */
    public static void ensureTcpFree(InetSocketAddress address) throws IOException {
        try (ServerSocketChannel probe = ServerSocketChannel.open()) {
            probe.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            probe.bind(address, 1);
        } catch (BindException e) {
            throw new BindException("cannot bind " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + reason(e));
        }
    }

    /** Fails with "address already in use" if another socket is bound to address (UDP). */
    public static void ensureUdpFree(InetSocketAddress address) throws IOException {
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(address);
        } catch (BindException e) {
            throw new BindException("cannot bind udp " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + reason(e));
        }
    }

    /** "address already in use", or what else refused the bind ("permission denied" for port 7 without the capability). */
    private static String reason(BindException e) {
        String m = e.getMessage();
        return m == null || m.contains("in use") ? "address already in use" : m.toLowerCase(java.util.Locale.ROOT);
    }
}
