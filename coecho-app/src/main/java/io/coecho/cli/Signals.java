package io.coecho.cli;

import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT for a server: the first starts a graceful shutdown, the second exits at once.
 * Handles the signals directly (sun.misc.Signal, in jdk.unsupported) rather than through shutdown
 * hooks, which cannot tell a first signal from a second.
 */
final class Signals {
    private Signals() {}

    static void onTerminate(Runnable first, Runnable second) {
        AtomicInteger count = new AtomicInteger();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                if (count.incrementAndGet() == 1) {
                    first.run();
                } else {
                    second.run();
                }
            });
        }
    }
}
