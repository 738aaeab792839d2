package io.coecho.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The runtime's packages point one way (docs/ARCHITECTURE.md, "Modules and packages"): timers need
 * nothing, the reactor needs timers, coroutines the reactor, the socket API those three, and each
 * transport the socket API and below; the transports know nothing of each other (io_uring uses only
 * the Linux transport's FFM bindings), and only the
 * transport choice (this package) knows them all. Checked on the compiled classes.
 */
class LayersTest {
    private static final String R = "io.coecho.runtime";
    /** Each package and the runtime packages it may use; the root package may use them all. */
    private static final Map<String, Set<String>> MAY_USE = Map.of(
            R + ".timer", Set.of(),
            R + ".reactor", Set.of(R + ".timer"),
            R + ".coro", Set.of(R + ".reactor", R + ".timer"),
            R + ".net", Set.of(R + ".coro", R + ".reactor", R + ".timer"),
            R + ".linux", Set.of(R + ".net", R + ".coro", R + ".reactor", R + ".timer"),
            R + ".nio", Set.of(R + ".net", R + ".coro", R + ".reactor", R + ".timer"),
            // io_uring shares the Linux FFM bindings (Syscalls stays the one syscall gate); never the reverse.
            R + ".uring", Set.of(R + ".linux", R + ".net", R + ".coro", R + ".reactor", R + ".timer"));

    @Test
    void eachPackageUsesOnlyThePackagesBelowIt() {
        Map<String, Set<String>> refs = ClassReferences.read(Path.of("target/classes"));
        List<String> wrong = new ArrayList<>();
        for (String from : MAY_USE.keySet()) {
            for (String to : MAY_USE.keySet()) {
                if (!to.equals(from) && !MAY_USE.get(from).contains(to)) {
                    wrong.addAll(ClassReferences.between(refs, from, to));
                }
            }
            wrong.addAll(ClassReferences.between(refs, from, R));
        }
        assertEquals(List.of(), wrong);
    }
}
