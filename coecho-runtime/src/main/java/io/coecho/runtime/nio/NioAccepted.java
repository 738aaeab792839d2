package io.coecho.runtime.nio;

import io.coecho.runtime.net.Accepted;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.nio.channels.SocketChannel;

/**
 * An accepted channel on its way to the loop that will serve it: registered with that loop's
 * Selector when attached (a channel may be registered from the selecting thread only, here).
 */
final class NioAccepted implements Accepted {
    private final SocketChannel channel;

    NioAccepted(SocketChannel channel) {
        this.channel = channel;
    }

    @Override
    public TcpStream attach(EventLoop loop) throws IOException {
        try {
            return new NioTcpStream(NioTransport.poller(loop).register(channel));
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing to do: the descriptor is released either way.
        }
    }
}
