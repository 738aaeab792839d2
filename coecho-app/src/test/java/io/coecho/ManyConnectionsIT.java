package io.coecho;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The seed's concurrency test: many clients connected at the same time, each sending its own random
 * payload at the same moment, each getting exactly its own bytes back; then the server lets go of
 * every connection.
 */
class ManyConnectionsIT {
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void hundredClientsAtOnce(ServerTarget target) throws Exception {
        clientsAtOnce(target, 100, 256 * 1024);
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void thousandClientsAtOnce(ServerTarget target) throws Exception {
        clientsAtOnce(target, 1000, 16 * 1024);
    }

    private static void clientsAtOnce(ServerTarget target, int clients, int maxPayload) throws Exception {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        String what = target + ", " + clients + " clients, seed " + seed;
        List<Socket> sockets = new ArrayList<>();
        try (TestServer server = TestServer.start(target);
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            try {
                // Connect them all first, so that every connection is open at once ...
                for (int i = 0; i < clients; i++) {
                    sockets.add(server.connect());
                }
                server.awaitStats("all " + clients + " accepted", s -> s.accepted() == clients);
                // ... then let them all send at the same moment.
                CountDownLatch go = new CountDownLatch(1);
                List<Callable<Void>> work = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    Socket s = sockets.get(i);
                    byte[] payload = Traffic.payload(random, 1 + random.nextInt(maxPayload));
                    String who = what + ", client " + i + " (" + payload.length + " B)";
                    work.add(() -> {
                        go.await();
                        Traffic.echo(s, payload, who);
                        return null;
                    });
                }
                List<Future<Void>> results = new ArrayList<>();
                for (Callable<Void> w : work) {
                    results.add(pool.submit(w));
                }
                go.countDown();
                for (Future<Void> f : results) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            server.awaitStats("every connection closed", s -> s.active() == 0 && s.closed() == clients);
        }
    }
}
