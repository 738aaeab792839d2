package io.coecho.server.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A blocking JDK UDP client for tests: sends datagrams, waits (with a timeout) for answers, and
 * checks without waiting that no other answer is queued. Test thread only.
 */
final class UdpClient implements AutoCloseable {
    static final int TIMEOUT_MS = 10_000;

    private final DatagramSocket socket;
    private InetSocketAddress server;

    private UdpClient(DatagramSocket socket, InetSocketAddress server) {
        this.socket = socket;
        this.server = server;
    }

    /** A client bound at from (port 0: ephemeral) talking to server. */
    static UdpClient open(InetSocketAddress from, InetSocketAddress server) throws IOException {
        DatagramSocket s = DatagramChannel.open(from.getAddress() instanceof java.net.Inet6Address
                ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET).socket();
        s.bind(from);
        s.setSoTimeout(TIMEOUT_MS);
        s.setReceiveBufferSize(1 << 20);
        s.setSendBufferSize(1 << 20);
        return new UdpClient(s, server);
    }

    static UdpClient open(String host, InetSocketAddress server) throws IOException {
        return open(new InetSocketAddress(InetAddress.getByName(host), 0), server);
    }

    /** Talks to another server from now on (a client opened before the server existed). */
    UdpClient target(InetSocketAddress newServer) {
        this.server = newServer;
        return this;
    }

    int port() {
        return socket.getLocalPort();
    }

    void send(byte[] data) throws IOException {
        socket.send(new DatagramPacket(data, data.length, server));
    }

    /** The next answer's bytes, or a failure after the timeout. Checks it came from the server. */
    byte[] receive() throws IOException {
        byte[] buf = new byte[65_536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        assertEquals(server.getPort(), p.getPort(), "answer from the server's port");
        return Arrays.copyOf(buf, p.getLength());
    }

    /** Sends data and asserts the answer is the same bytes. */
    void echo(byte[] data) throws IOException {
        send(data);
        assertArrayEquals(data, receive(), "echo of " + data.length + " bytes");
    }

    /** Whatever answer is already queued, without waiting: null when none. */
    byte[] pending() throws IOException {
        DatagramChannel ch = socket.getChannel();
        ch.configureBlocking(false);
        try {
            ByteBuffer b = ByteBuffer.allocate(65_536);
            return ch.receive(b) == null ? null : Arrays.copyOf(b.array(), b.position());
        } finally {
            ch.configureBlocking(true);
        }
    }

    static byte[] random(int size) {
        byte[] b = new byte[size];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    @Override
    public void close() {
        socket.close();
    }
}
