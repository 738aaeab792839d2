package io.coecho.runtime.nio;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.net.Disconnects;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What this JDK's socket channels really throw when the peer goes away, checked against
 * {@link Disconnects}: these are the errors the nio transport passes up, and the server must log
 * them quietly, as it does the epoll transport's errnos.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class NioDisconnectsIT {

    @Test
    void readAfterPeerResetIsPeerGone() throws Exception {
        try (Pair p = Pair.open()) {
            p.reset();
            // Blocking read: returns (throws) once the RST has arrived.
            IOException e = assertThrows(IOException.class, () -> p.server.read(ByteBuffer.allocateDirect(64)));
            assertTrue(Disconnects.isPeerGone(e), "not recognised: " + e);
        }
    }

    @Test
    void writeAfterPeerResetIsPeerGone() throws Exception {
        try (Pair p = Pair.open()) {
            p.reset();
            assertWritesFailAsPeerGone(p.server);
        }
    }

    @Test
    void writeAfterPeerCloseIsPeerGone() throws Exception {
        try (Pair p = Pair.open()) {
            p.client.close(); // FIN; our next write draws an RST, the one after fails (EPIPE or ECONNRESET)
            assertWritesFailAsPeerGone(p.server);
        }
    }

    private static void assertWritesFailAsPeerGone(SocketChannel ch) {
        IOException e = assertThrows(IOException.class, () -> {
            for (int i = 0; i < 2000; i++) {
                ch.write(ByteBuffer.allocateDirect(1024));
                LockSupport.parkNanos(1_000_000); // let the peer's RST arrive; the loop ends when it has
            }
        });
        assertTrue(Disconnects.isPeerGone(e), "not recognised: " + e);
    }

    /** A connected pair on loopback, both ends blocking. */
    private record Pair(ServerSocketChannel listener, SocketChannel client, SocketChannel server) implements AutoCloseable {
        static Pair open() throws IOException {
            ServerSocketChannel l = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
            SocketChannel c = SocketChannel.open(l.getLocalAddress());
            return new Pair(l, c, l.accept());
        }

        /** Closes the client with SO_LINGER 0: the kernel sends RST instead of FIN. */
        void reset() throws IOException {
            client.setOption(StandardSocketOptions.SO_LINGER, 0);
            client.close();
        }

        @Override
        public void close() throws IOException {
            try (listener; client; server) {
                // closes all three
            }
        }
    }
}
