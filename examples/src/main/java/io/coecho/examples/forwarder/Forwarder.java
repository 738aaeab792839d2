package io.coecho.examples.forwarder;

import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.ResourceShortage;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;

/**
 * A TCP port forwarder on the coecho runtime: {@code forwarder LISTEN TARGET} accepts connections on
 * LISTEN and, for each, opens one to TARGET and copies bytes both ways ({@link Link}), each way in a
 * coroutine that reads like blocking code. A half-close passes through, and back-pressure needs no
 * code: a copy that cannot write waits, and reads nothing more meanwhile.
 *
 * <pre>
 *   java -jar examples/target/forwarder.jar 9000 127.0.0.1:8080     # then: nc localhost 9000
 * </pre>
 *
 * <p>Uses only the runtime's public API: a transport, one event loop, a listener, coroutines.
 *
 * <p>Threading: {@link #start} and {@link #close} from any thread; everything else runs on the
 * forwarder's loop. Lifecycle: RUNNING → {@link #close()} → CLOSED (listener and links closed, loop
 * ended).
 */
public final class Forwarder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Forwarder.class.getName());
    /** Bytes read per call, per direction of each link. */
    static final int BUFFER_SIZE = 16 * 1024;

    private final Transport transport;
    private final EventLoop loop;
    private final TcpListener listener;
    private final InetSocketAddress target;

    private Forwarder(Transport transport, EventLoop loop, TcpListener listener, InetSocketAddress target) {
        this.transport = transport;
        this.loop = loop;
        this.listener = listener;
        this.target = target;
    }

    /** Listens on listen (port 0: any free port) and forwards each connection to target. */
    public static Forwarder start(TransportChoice choice, InetSocketAddress listen, InetSocketAddress target)
            throws IOException {
        Transport transport = choice.open();
        EventLoop loop = transport.newLoop("forwarder", BUFFER_SIZE);
        TcpListener listener;
        try {
            listener = transport.listen(loop, listen, new ListenOptions(128, false));
        } catch (IOException | RuntimeException e) {
            loop.discard();
            throw e;
        }
        Forwarder f = new Forwarder(transport, loop, listener, target);
        loop.start();
        Coroutine.spawn(loop, "accept " + listener.localAddress(), f::acceptLoop);
        return f;
    }

    /** Where it listens, with the real port when started with port 0. */
    public InetSocketAddress address() {
        return listener.localAddress();
    }

    private void acceptLoop() throws IOException {
        while (true) {
            TcpStream client;
            try {
                client = listener.accept();
            } catch (ClosedChannelException e) {
                return; // close() was called
            } catch (IOException e) {
                if (ResourceShortage.errnoName(e) == null) {
                    throw e;
                }
                // Out of descriptors: the connection waits in the backlog; try again soon.
                Coroutine.sleep(Duration.ofMillis(100));
                continue;
            }
            Coroutine.spawn(loop, "link " + client, () -> Link.open(transport, loop, client, target));
        }
    }

    /**
     * Stops listening and cuts every link, then waits for the loop to end. Idempotent; any thread but
     * the loop's.
     */
    @Override
    public void close() {
        if (!loop.isTerminated()) {
            loop.execute(() -> {
                listener.close();
                loop.stop(); // the loop closes what is still registered on it: every link's streams
            });
        }
        try {
            if (!loop.awaitTermination(Duration.ofSeconds(10))) {
                LOG.log(System.Logger.Level.WARNING, "the forwarder's loop did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@code forwarder [HOST:]PORT HOST:PORT}: forwards until interrupted (Ctrl-C, SIGTERM). */
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: forwarder [HOST:]PORT HOST:PORT   (listen on the first, forward to the second)");
            System.exit(2);
        }
        Forwarder f = start(TransportChoice.AUTO, address(args[0], "0.0.0.0"), address(args[1], null));
        Runtime.getRuntime().addShutdownHook(new Thread(f::close));
        System.err.println("forwarding " + f.address().getAddress().getHostAddress() + ":" + f.address().getPort()
                + " to " + args[1]);
        // The loop's thread keeps the JVM running.
    }

    /** "8080", "host:8080" or "[::1]:8080"; the host is defaultHost when left out. */
    static InetSocketAddress address(String text, String defaultHost) throws IOException {
        int colon = text.lastIndexOf(':');
        String host = colon < 0 ? defaultHost : text.substring(0, colon).replace("[", "").replace("]", "");
        if (host == null) {
            throw new IllegalArgumentException("'" + text + "' is not HOST:PORT");
        }
        return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(text.substring(colon + 1)));
    }
}
