package io.coecho.server;

import java.io.IOException;

/** The thread-per-connection engines (being built). */
final class BlockingServer {
    private BlockingServer() {}

    static Server start(ServerConfig config) throws IOException {
        throw new IOException("the " + config.engine() + " engine is not built yet");
    }
}
