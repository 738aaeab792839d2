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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An echo server for tests that ends each connection after a number of whole messages of a known
 * size, in one of the ways a server can: closing between messages as a draining server does, closing
 * in the middle of an echo, or resetting while it owes one. On plain blocking sockets, a thread per
 * connection, so that the load generator is judged against something other than our own runtime.
 *
 * <p>A close between messages is a lingering close: the server shuts down its side (the client reads
 * EOF), then reads and drops what the client still sends until it closes, so the kernel never turns
 * the close into a reset. Thread-safe; {@link #close()} ends everything.
 */
final class ClosingServer implements AutoCloseable {
    enum Ending {
        /** After the messages, EOF at a message boundary (what the next message gets: nothing). */
        BETWEEN_MESSAGES,
        /** Echoes half of the next message, then EOF. */
        MID_MESSAGE,
        /** Reads the next message and resets the connection instead of echoing it. */
        RESET_OWING
    }

    private final ServerSocket listener;
    private final Ending ending;
    private final int size;
    private final int messages;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private ClosingServer(Ending ending, int size, int messages) throws IOException {
        this.ending = ending;
        this.size = size;
        this.messages = messages;
        this.listener = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        Thread.ofPlatform().daemon().name("closing-accept").start(this::acceptLoop);
    }

    /** Ends each connection as ending says once it has echoed messages messages of size bytes. */
    static ClosingServer start(Ending ending, int size, int messages) throws IOException {
        return new ClosingServer(ending, size, messages);
    }

    InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
    }

    /** Connections accepted so far. */
    int accepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        try {
            while (true) {
                Socket s = listener.accept();
                accepted.incrementAndGet();
                sockets.add(s);
                Thread.ofPlatform().daemon().name("closing-conn").start(() -> serve(s));
            }
        } catch (IOException closed) {
            // close() closed the listener
        }
    }

    private void serve(Socket s) {
        byte[] message = new byte[size];
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            for (int i = 0; i < messages; i++) {
                if (!readMessage(in, message)) {
                    return;
                }
                out.write(message);
            }
            switch (ending) {
                case BETWEEN_MESSAGES -> lingeringClose(s, in);
                case MID_MESSAGE -> {
                    if (readMessage(in, message)) {
                        out.write(message, 0, size / 2);
                        lingeringClose(s, in);
                    }
                }
                case RESET_OWING -> {
                    if (readMessage(in, message)) {
                        s.setSoLinger(true, 0); // close() sends RST
                    }
                }
            }
        } catch (IOException e) {
            // the client closed or reset it: this connection is over
        }
    }

    private static boolean readMessage(InputStream in, byte[] message) throws IOException {
        int off = 0;
        while (off < message.length) {
            int n = in.read(message, off, message.length - off);
            if (n < 0) {
                return false;
            }
            off += n;
        }
        return true;
    }

    private static void lingeringClose(Socket s, InputStream in) throws IOException {
        s.shutdownOutput();
        byte[] drop = new byte[4096];
        while (in.read(drop) >= 0) {
            // what the client sent before it saw the EOF: never answered, dropped
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
