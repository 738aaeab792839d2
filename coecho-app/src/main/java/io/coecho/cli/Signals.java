package io.coecho.cli;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT for a server: the first starts a graceful shutdown, the second exits at once.
 * Handles the signals directly (sun.misc.Signal, in jdk.unsupported) rather than through shutdown
 * hooks, which cannot tell a first signal from a second. The handlers get the signal's name
 * ("SIGTERM"), and run on a thread the JVM starts for each signal.
 */
final class Signals {
    private Signals() {}

    static void onTerminate(Consumer<String> first, Consumer<String> second) {
        AtomicInteger count = new AtomicInteger();
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                if (count.incrementAndGet() == 1) {
                    first.accept("SIG" + s.getName());
                } else {
                    second.accept("SIG" + s.getName());
                }
            });
        }
    }
}
