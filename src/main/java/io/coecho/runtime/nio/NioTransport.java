package io.coecho.runtime.nio;

import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import java.io.IOException;
import java.net.InetSocketAddress;

/** The portable transport on java.nio (being built). */
public final class NioTransport implements Transport {
    @Override
    public String name() {
        return "nio";
    }

    @Override
    public EventLoop newLoop(String name, int bufferSize) {
        throw new UnsupportedOperationException("nio transport not built yet");
    }

    @Override
    public boolean supportsReusePort() {
        return false;
    }

    @Override
    public TcpListener listen(EventLoop loop, InetSocketAddress address, ListenOptions options) throws IOException {
        throw new UnsupportedOperationException("nio transport not built yet");
    }

    @Override
    public TcpStream connect(EventLoop loop, InetSocketAddress address) throws IOException {
        throw new UnsupportedOperationException("nio transport not built yet");
    }
}
