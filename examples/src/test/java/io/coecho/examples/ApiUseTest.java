package io.coecho.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.coecho.runtime.ClassReferences;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The examples use the runtime through its public API only: no transport's classes, no transport SPI. */
class ApiUseTest {
    @Test
    void examplesUseOnlyTheRuntimesApi() {
        assertEquals(List.of(), ClassReferences.runtimeInternalsUsed(ClassReferences.read(Path.of("target/classes"))));
    }
}
