package io.coecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.coecho.server.ServerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * deploy/kubernetes/ cannot be applied here (no cluster), so it is checked against what it must
 * agree with: valid YAML with the fields Kubernetes requires; every COECHO_ variable an option of
 * {@code coecho serve}, with a value that option accepts; probes on the admin port's real endpoints;
 * a grace period above drain delay plus shutdown timeout; a Service whose ports are the echo ports.
 */
@Timeout(30)
class KubernetesManifestsTest {
    private static final Path DIR = Path.of("..", "deploy", "kubernetes");
    private static final Map<String, JsonNode> BY_KIND = new HashMap<>();

    @BeforeAll
    static void read() throws IOException {
        List<Path> files;
        try (var s = Files.list(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no manifests in " + DIR.toAbsolutePath());
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (Path f : files) {
            try (MappingIterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(f.toFile())) {
                while (docs.hasNext()) {
                    JsonNode doc = docs.next();
                    for (String field : List.of("apiVersion", "kind", "metadata")) {
                        assertTrue(doc.hasNonNull(field), f + ": a document without " + field);
                    }
                    assertTrue(doc.path("metadata").hasNonNull("name"), f + ": no metadata.name");
                    assertNull(BY_KIND.put(doc.get("kind").asText(), doc), "two of kind " + doc.get("kind"));
                }
            }
        }
    }

    private static void assertNull(Object o, String what) {
        assertTrue(o == null, what);
    }

    private static JsonNode container() {
        JsonNode containers = BY_KIND.get("Deployment").path("spec").path("template").path("spec").path("containers");
        assertEquals(1, containers.size(), "one container");
        return containers.get(0);
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        container().path("env").forEach(e -> env.put(e.get("name").asText(), e.path("value").asText()));
        return env;
    }

    @Test
    void everyVariableIsAnOptionOfServeWithAValueItTakes() {
        Map<String, String> env = env();
        CommandLine cli = Main.commandLine(env);
        CommandLine serve = cli.getSubcommands().get("serve");
        for (String name : env.keySet()) {
            assertTrue(name.startsWith("COECHO_"), name);
            String option = "--" + name.substring("COECHO_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
            assertNotNull(serve.getCommandSpec().findOption(option), name + " names no option of coecho serve (" + option + ")");
        }
        // The server parses its command line with these as the environment first: a value it would
        // refuse fails here the same way.
        cli.parseArgs("serve");
    }

    @Test
    void probesAskTheAdminPortForLivenessAndReadiness() {
        JsonNode c = container();
        int admin = Integer.parseInt(env().get("COECHO_ADMIN").replaceAll(".*:", ""));
        assertEquals(admin, port(c, "admin", "TCP"), "the admin port is the one COECHO_ADMIN binds");
        assertEquals("/readyz", c.path("readinessProbe").path("httpGet").path("path").asText());
        assertEquals("/livez", c.path("livenessProbe").path("httpGet").path("path").asText());
        for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
            assertEquals("admin", c.path(probe).path("httpGet").path("port").asText(), probe + " on the admin port");
        }
    }

    @Test
    void echoPortsAreTheServersAndTheServiceExposesThem() {
        JsonNode c = container();
        int echo = Integer.parseInt(env().getOrDefault("COECHO_PORT", "" + ServerConfig.DEFAULT_PORT));
        assertEquals(ServerConfig.DEFAULT_PORT, echo, "the server's default port, so that the image needs no option for it");
        assertEquals(echo, port(c, "echo-tcp", "TCP"));
        assertEquals(echo, port(c, "echo-udp", "UDP"));
        assertEquals("true", env().get("COECHO_UDP"), "the UDP port is declared, so UDP echo must be on");
        JsonNode service = BY_KIND.get("Service");
        Set<String> targets = new HashSet<>();
        service.path("spec").path("ports").forEach(p -> targets.add(p.get("targetPort").asText() + "/" + p.get("protocol").asText()));
        assertEquals(Set.of("echo-tcp/TCP", "echo-udp/UDP"), targets);
        JsonNode podLabels = BY_KIND.get("Deployment").path("spec").path("template").path("metadata").path("labels");
        service.path("spec").path("selector").fields().forEachRemaining(
                s -> assertEquals(s.getValue(), podLabels.get(s.getKey()), "the Service selects the pods"));
        BY_KIND.get("PodDisruptionBudget").path("spec").path("selector").path("matchLabels").fields().forEachRemaining(
                s -> assertEquals(s.getValue(), podLabels.get(s.getKey()), "the budget covers the pods"));
    }

    @Test
    void theGracePeriodOutlastsTheDrainDelayAndTheShutdownTimeout() {
        long grace = BY_KIND.get("Deployment").path("spec").path("template").path("spec")
                .path("terminationGracePeriodSeconds").asLong();
        Duration delay = DurationOption.parse(env().getOrDefault("COECHO_DRAIN_DELAY", "0"));
        Duration shutdown = DurationOption.parse(env().getOrDefault("COECHO_SHUTDOWN_TIMEOUT", "5s"));
        assertTrue(delay.isPositive(), "a drain delay, so that endpoint removal has time to spread");
        assertTrue(Duration.ofSeconds(grace).compareTo(delay.plus(shutdown)) > 0,
                "terminationGracePeriodSeconds " + grace + " must exceed " + delay + " + " + shutdown);
    }

    private static int port(JsonNode container, String name, String protocol) {
        for (JsonNode p : container.path("ports")) {
            if (p.path("name").asText().equals(name)) {
                assertEquals(protocol, p.path("protocol").asText(), name);
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + name);
    }
}
