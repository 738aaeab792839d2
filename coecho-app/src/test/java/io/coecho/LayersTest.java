package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.runtime.ClassReferences;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The application's boundaries (docs/ARCHITECTURE.md, "Modules and packages"), checked on its
 * compiled classes: it uses the runtime through the runtime's API only; the load generator and the
 * server know nothing of each other; the server's concerns (the two engines, UDP echo, the admin
 * side) meet only through the shared pieces at the server's root.
 */
class LayersTest {
    private static final String S = "io.coecho.server";
    /**
     * Each server package and the other server packages it may use. The coroutine engine runs UDP
     * echo on its loops; the admin side reads the UDP counters; the root starts the engines
     * ({@code Server.start}) and carries the UDP settings and counters in its config and interface.
     * The PROXY protocol's pieces (the parser, its settings and refusal counts) are used by both
     * engines, by the root's config and stats, and by the admin side's metrics; they use nothing.
     */
    private static final Map<String, Set<String>> SERVER_MAY_USE = Map.of(
            S, Set.of(S + ".coroutine", S + ".blocking", S + ".udp", S + ".proxy"),
            S + ".coroutine", Set.of(S, S + ".udp", S + ".proxy"),
            S + ".blocking", Set.of(S, S + ".proxy"),
            S + ".udp", Set.of(S),
            S + ".proxy", Set.of(),
            S + ".admin", Set.of(S, S + ".udp", S + ".proxy"));

    private final Map<String, Set<String>> refs = ClassReferences.read(Path.of("target/classes"));

    @Test
    void usesTheRuntimeThroughItsApiOnly() {
        assertEquals(List.of(), ClassReferences.runtimeInternalsUsed(refs));
    }

    @Test
    void loadGeneratorAndServerAreIndependent() {
        assertEquals(List.of(), ClassReferences.betweenTrees(refs, "io.coecho.loadgen", "io.coecho.server"));
        assertEquals(List.of(), ClassReferences.betweenTrees(refs, "io.coecho.server", "io.coecho.loadgen"));
        assertEquals(List.of(), ClassReferences.betweenTrees(refs, "io.coecho.server", "io.coecho.cli"));
        assertEquals(List.of(), ClassReferences.betweenTrees(refs, "io.coecho.loadgen", "io.coecho.cli"));
    }

    @Test
    void serverConcernsMeetAtTheRootOnly() {
        List<String> wrong = new ArrayList<>();
        for (String from : SERVER_MAY_USE.keySet()) {
            for (String to : SERVER_MAY_USE.keySet()) {
                if (!to.equals(from) && !SERVER_MAY_USE.get(from).contains(to)) {
                    wrong.addAll(ClassReferences.between(refs, from, to));
                }
            }
        }
        assertEquals(List.of(), wrong);
    }
}
