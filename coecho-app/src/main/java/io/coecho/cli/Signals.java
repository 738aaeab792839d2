package io.coecho.cli;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT for a command: the first starts a graceful end (a server drains, a bench ends
 * its window), the second exits at once. Handles the signals directly (sun.misc.Signal, in
 * jdk.unsupported) rather than through shutdown hooks, which cannot tell a first signal from a
 * second. The handlers get the signal's name ("SIGTERM"), and run on a thread the JVM starts for
 * each signal.
 */
final class Signals implements AutoCloseable {
    private static final String[] NAMES = {"TERM", "INT"};
    private final SignalHandler[] previous = new SignalHandler[NAMES.length];

    private Signals() {}

    /**
     * Installs the handlers until the returned object is closed, which puts back the ones before
     * (a command run in-process, as tests do, leaves the JVM's signals as it found them).
     */
    static Signals onTerminate(Consumer<String> first, Consumer<String> second) {
        Signals installed = new Signals();
        AtomicInteger count = new AtomicInteger();
        for (int i = 0; i < NAMES.length; i++) {
            installed.previous[i] = Signal.handle(new Signal(NAMES[i]), s -> {
                if (count.incrementAndGet() == 1) {
                    first.accept("SIG" + s.getName());
                } else {
                    second.accept("SIG" + s.getName());
                }
            });
        }
        return installed;
    }

    @Override
    public void close() {
        for (int i = 0; i < NAMES.length; i++) {
            Signal.handle(new Signal(NAMES[i]), previous[i]);
        }
    }
}
