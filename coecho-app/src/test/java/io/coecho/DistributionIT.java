package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The self-contained distribution ({@code ./coecho dist}), built from the jar under test and unpacked
 * as a user would: it holds the jar, a runtime of only the modules coecho uses, and a bin/coecho that
 * serves and benches with nothing on the PATH (no JDK, no Maven, nothing to download), starting the
 * JVM with exactly the options the repository's launcher uses.
 *
 * <p>Built in the suite, not only by a script: building and unpacking take about 15 s on two cores.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DistributionIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** The packaged launcher's whole world: no JAVA_HOME, a PATH with nothing on it. */
    private static final Consumer<Map<String, String>> NOTHING_INSTALLED = env -> {
        env.clear();
        env.put("PATH", "/nonexistent");
    };

    @TempDir
    static Path unpacked;
    private static Path tarball;
    private static Path home;

    @BeforeAll
    // The class's @Timeout covers the tests, not this: building the runtime with jlink is minutes of
    // CPU on a busy machine (over a minute seen at load 30), which the suite's 60 s default is not for.
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    static void unpack() throws Exception {
        tarball = Packages.tarball();
        Command.run(WAIT, List.of("tar", "-xzf", tarball.toString(), "-C", unpacked.toString())).ok("tar -x");
        home = unpacked.resolve("coecho-" + Packages.version());
    }

    @Test
    void theTarballHoldsTheJarAJlinkedRuntimeOfTheModulesCoechoUsesAndALauncher() throws Exception {
        String arch = System.getProperty("os.arch").equals("amd64") ? "x64" : "aarch64";
        assertEquals("coecho-" + Packages.version() + "-linux-" + arch + ".tar.gz", tarball.getFileName().toString());
        assertTrue(Files.isExecutable(home.resolve("bin/coecho")), "bin/coecho");
        assertEquals(-1, Files.mismatch(Packages.jar(), home.resolve("lib/coecho.jar")), "lib/coecho.jar is the built jar");
        assertEquals(-1, Files.mismatch(Packages.root().resolve("packaging/jvm.options"), home.resolve("lib/jvm.options")),
                "lib/jvm.options is the list ./coecho uses");
        assertTrue(Files.isExecutable(home.resolve("runtime/bin/java")), "runtime/bin/java");

        // Only what jdeps says the jar needs, and what those modules require (jlink adds it, jdeps
        // names only the top: jdk.management for java.management): no compiler, no desktop, no SQL.
        String jdeps = Command.run(WAIT, List.of(Path.of(System.getProperty("java.home"), "bin", "jdeps").toString(),
                "--print-module-deps", "--ignore-missing-deps", "--multi-release", "25", Packages.jar().toString()))
                .ok("jdeps").stdout().strip();
        Set<String> needed = new TreeSet<>(Arrays.asList(jdeps.split(",")));
        String release = Files.readString(home.resolve("runtime/release"));
        String modules = release.lines().filter(l -> l.startsWith("MODULES=")).findFirst().orElse("")
                .replaceAll("^MODULES=\"|\"$", "");
        assertEquals(required(needed), new TreeSet<>(Arrays.asList(modules.split(" "))), "the runtime's modules");
        assertTrue(needed.contains("java.base") && needed.size() <= 6, "a handful of modules: " + needed);
        try (var bin = Files.list(home.resolve("runtime/bin"))) {
            assertEquals(List.of("java"), bin.map(p -> p.getFileName().toString()).toList(), "runtime/bin: java alone");
        }

        long kib = Files.size(tarball) / 1024;
        System.out.printf("dist: %s, %d KiB, modules %s%n", tarball.getFileName(), kib, needed);
        assertTrue(kib < 40 * 1024, "a runtime of a few modules stays small: " + kib + " KiB");
    }

    @Test
    void theLauncherServesAndBenchesWithNothingInstalled() throws Exception {
        List<String> serve = List.of(home.resolve("bin/coecho").toString(), "serve", "--port", "0", "--bind", "127.0.0.1",
                "--threads", "2");
        try (ServerProcess p = ServerProcess.startCommand(serve, NOTHING_INSTALLED)) {
            try (Socket s = new Socket(p.address().getAddress(), p.address().getPort())) {
                s.setSoTimeout(10_000);
                Traffic.echo(s, "packaged\n".getBytes(StandardCharsets.US_ASCII), "echo from the packaged server");
            }
            Command bench = Command.run(WAIT, NOTHING_INSTALLED, List.of(home.resolve("bin/coecho").toString(), "bench",
                    "127.0.0.1", String.valueOf(p.address().getPort()), "-c", "8", "-d", "1s", "-w", "0", "--json"));
            assertEquals(0, bench.exit(), bench.stderr());
            assertTrue(bench.stdout().contains("\"ok\":true") && bench.stdout().contains("\"mismatch\":0"), bench.stdout());

            p.terminate();
            assertEquals(0, p.awaitExit(WAIT), "SIGTERM reaches the JVM (bin/coecho execs it) and it drains: " + p.stderr());
            assertTrue(p.stderr().stream().anyMatch(l -> l.contains("stopped:")), p.stderr().toString());
        }
    }

    @Test
    void theLauncherStartsTheJvmWithTheRepositoryLaunchersOptions() throws Exception {
        Consumer<Map<String, String>> printFlags = env -> env.put("COECHO_JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        Command packaged = Command.run(WAIT, NOTHING_INSTALLED.andThen(printFlags),
                List.of(home.resolve("bin/coecho").toString(), "--version")).ok("bin/coecho --version");
        Command repository = Command.run(WAIT, printFlags.andThen(env -> env.put("JAVA_HOME", System.getProperty("java.home"))),
                List.of(Packages.root().resolve("coecho").toString(), "--version")).ok("./coecho --version");
        String flags = packaged.stdout().lines().findFirst().orElse("");
        for (String option : List.of("-XX:+UseG1GC", "-XX:InitialHeapSize=16777216",
                "-XX:MaxRAMPercentage=25", "-XX:+ExitOnOutOfMemoryError", "-XX:ThreadStackSize=512")) {
            assertTrue(flags.contains(option), option + " in " + flags);
        }
        assertEquals(repository.stdout().lines().findFirst().orElse(""), flags, "the same JVM flags as ./coecho");
        assertFalse(packaged.stdout().contains("development build"), packaged.stdout());
    }

    /** names and every module they require, as jlink resolves them (static requires left out). */
    private static Set<String> required(Set<String> names) {
        Set<String> all = new TreeSet<>();
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(names);
        while (!todo.isEmpty()) {
            String name = todo.pop();
            if (all.add(name)) {
                java.lang.module.ModuleFinder.ofSystem().find(name).orElseThrow().descriptor().requires().stream()
                        .filter(r -> !r.modifiers().contains(java.lang.module.ModuleDescriptor.Requires.Modifier.STATIC))
                        .forEach(r -> todo.push(r.name()));
            }
        }
        return all;
    }
}
