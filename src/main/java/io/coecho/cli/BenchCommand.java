package io.coecho.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code coecho bench}: the load generator (being built). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Load generator (not built yet).")
final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("coecho: bench is not built yet");
        return 1;
    }
}
