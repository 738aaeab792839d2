package io.coecho.server.admin;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;

/**
 * HAProxy's agent check ({@code --agent-port}): each connection gets one line and is closed.
 * {@code up ready} while ready (up, and out of drain or maintenance if an operator put it there),
 * {@code drain} from the first SIGTERM on (HAProxy sends no new connections, keeps the open ones),
 * {@code down} while starting. What HAProxy may send first ({@code agent-send}) is read and ignored.
 *
 * <p>One daemon platform thread accepts and answers, one connection at a time: an agent check is a
 * handful of bytes every few seconds. Lifecycle: {@link #start} → {@link #close()}.
 */
public final class AgentCheck implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AgentCheck.class.getName());
    /** How long a checker may keep the connection open after our answer. */
    private static final int LINGER_MILLIS = 1000;

    private final ServerSocket listener;
    private final Readiness readiness;
    private final Thread thread;

    private AgentCheck(ServerSocket listener, Readiness readiness) {
        this.listener = listener;
        this.readiness = readiness;
        this.thread = Thread.ofPlatform().daemon().name("coecho-agent-check").unstarted(this::acceptLoop);
    }

    public static AgentCheck start(InetSocketAddress address, Readiness readiness) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(address, 16);
        } catch (IOException e) {
            s.close();
            if (e instanceof BindException) {
                throw new BindException("cannot bind agent-check address " + address.getAddress().getHostAddress() + ":"
                        + address.getPort() + ": " + e.getMessage());
            }
            throw e;
        }
        AgentCheck a = new AgentCheck(s, readiness);
        a.thread.start();
        return a;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.getLocalSocketAddress();
    }

    /** The line HAProxy reads for state. */
    static String answer(Readiness.State state) {
        return switch (state) {
            case STARTING -> "down\n";
            case READY -> "up ready\n";
            case DRAINING -> "drain\n";
        };
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            try (Socket c = listener.accept()) {
                c.setSoTimeout(LINGER_MILLIS);
                c.getOutputStream().write(answer(readiness.state()).getBytes(StandardCharsets.US_ASCII));
                c.shutdownOutput();
                // Read to the checker's close: closing with its bytes unread would reset the
                // connection, and a reset may discard our answer before the checker reads it.
                InputStream in = c.getInputStream();
                byte[] sink = new byte[256];
                while (in.read(sink) >= 0) {
                    // ignored: agent-send
                }
            } catch (SocketException e) {
                if (listener.isClosed()) {
                    return;
                }
                LOG.log(System.Logger.Level.DEBUG, "agent check: {0}", e.toString());
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "agent check: {0}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the agent check: {0}", e.toString());
        }
    }
}
