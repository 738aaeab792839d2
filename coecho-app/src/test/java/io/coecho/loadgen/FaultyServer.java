package io.coecho.loadgen;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small misbehaving TCP server for tests, on plain blocking sockets (a thread per connection), so
 * that the load generator is judged against something other than our own runtime. It either
 * echoes but corrupts one byte of each connection's stream, or accepts and never answers.
 *
 * <p>Thread-safe; {@link #close()} closes the listener and every connection and ends its threads.
 */
final class FaultyServer implements AutoCloseable {
    enum Fault {
        /** Echoes everything, but flips the byte at stream offset {@link #CORRUPT_AT} of every connection. */
        CORRUPT_ONE_BYTE,
        /** Accepts, then neither reads nor writes. */
        SILENT
    }

    static final long CORRUPT_AT = 100;

    private final ServerSocket listener;
    private final Fault fault;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private FaultyServer(Fault fault) throws IOException {
        this.fault = fault;
        this.listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("faulty-accept").start(this::acceptLoop);
    }

    static FaultyServer start(Fault fault) throws IOException {
        return new FaultyServer(fault);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket s = listener.accept();
                sockets.add(s);
                if (fault == Fault.CORRUPT_ONE_BYTE) {
                    Thread.ofPlatform().daemon().name("faulty-conn").start(() -> corruptingEcho(s));
                }
            }
        } catch (IOException closed) {
            // close() closed the listener
        }
    }

    private static void corruptingEcho(Socket s) {
        byte[] buf = new byte[8192];
        long offset = 0;
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                if (offset <= CORRUPT_AT && CORRUPT_AT < offset + n) {
                    buf[(int) (CORRUPT_AT - offset)] ^= 0x5A;
                }
                offset += n;
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the client closed or reset it: the test is over for this connection
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
