package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.runtime.ClassReferences;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The application's boundaries (docs/ARCHITECTURE.md, "Modules and packages"), checked on its
 * compiled classes: it uses the runtime through the runtime's API only, and the load generator and
 * the server know nothing of each other.
 */
class LayersTest {
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
}
