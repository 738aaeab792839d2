package io.coecho.examples.forwarder;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A plain java.net server on loopback, a virtual thread per connection, each served by a handler: the
 * far end of the forwarder in its tests, written without the runtime so that only the forwarder is
 * under test.
 */
record Target(ServerSocket socket, ExecutorService threads) implements AutoCloseable {
    interface Handler {
        void serve(Socket s) throws IOException;
    }

    static Target start(Handler handler) throws IOException {
        Target t = new Target(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()),
                Executors.newVirtualThreadPerTaskExecutor());
        t.threads.submit(() -> {
            while (true) {
                Socket s = t.socket.accept(); // ends with an exception at close()
                t.threads.submit(() -> {
                    try (s) {
                        handler.serve(s);
                    }
                    return null;
                });
            }
        });
        return t;
    }

    /** Echo: everything back, then EOF once the client's EOF arrives. */
    static void echo(Socket s) throws IOException {
        s.getInputStream().transferTo(s.getOutputStream());
        s.shutdownOutput();
    }

    /** Reads to EOF, then says how much it got. */
    static void countThenAnswer(Socket s) throws IOException {
        long n = s.getInputStream().transferTo(OutputStream.nullOutputStream());
        s.getOutputStream().write(("got " + n + " bytes").getBytes(StandardCharsets.US_ASCII));
    }

    /** Once a byte arrives, sends n bytes (i mod 251), then reads to EOF. */
    static Handler sendOnRequest(int n) {
        return s -> {
            if (s.getInputStream().read() < 0) {
                return;
            }
            s.getOutputStream().write(pattern(n));
            s.getInputStream().transferTo(OutputStream.nullOutputStream());
        };
    }

    /** The bytes {@link #sendOnRequest} sends. */
    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 251);
        }
        return b;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public void close() throws IOException {
        socket.close();
        threads.shutdownNow();
    }
}
