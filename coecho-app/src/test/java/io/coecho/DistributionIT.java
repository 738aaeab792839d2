package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
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
 * as a user would: it holds the jar, a runtime of only the modules coecho uses, an AOT cache trained
 * for that runtime and jar, and a bin/coecho that serves and benches with nothing on the PATH (no JDK,
 * no Maven, nothing to download), starting the JVM with the options the repository's launcher uses
 * and the cache; without a word when the cache is stale or gone.
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
    /** A second copy, for the tests that spoil it (a stale cache, no cache). */
    @TempDir
    static Path spare;
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
        for (String option : List.of("-XX:+UseG1GC", "-XX:G1HeapRegionSize=1048576", "-XX:InitialHeapSize=16777216",
                "-XX:MaxRAMPercentage=25", "-XX:TrimNativeHeapInterval=1000", "-XX:+ExitOnOutOfMemoryError",
                "-XX:ThreadStackSize=512")) {
            assertTrue(flags.contains(option), option + " in " + flags);
        }
        // The packaged launcher adds its AOT cache (and -Xlog:aot=off, which is no -XX flag), which
        // brings the AOT flags that follow from it; the rest is the same list.
        String cache = "-XX:AOTCache=" + home.resolve("lib/coecho.aot").toRealPath();
        assertTrue(flags.contains(cache + " "), cache + " in " + flags);
        assertEquals(withoutAot(repository.stdout().lines().findFirst().orElse("")), withoutAot(flags),
                "the same JVM flags as ./coecho");
        assertFalse(packaged.stdout().contains("development build"), packaged.stdout());
    }

    @Test
    void theLauncherStartsWithTheAotCacheWhereverTheDistributionIsUnpacked() throws Exception {
        assertTrue(Files.isRegularFile(home.resolve("lib/coecho.aot")), "lib/coecho.aot, from the build's training run");
        // -XX:AOTMode=on: a JVM that cannot use its cache stops instead of starting without it. This
        // one can: the same runtime and jar, moved from where dist.sh trained it (the tarball keeps the
        // jar's time stamp, which the JVM checks).
        Command on = Command.run(WAIT, NOTHING_INSTALLED.andThen(env -> env.put("COECHO_JAVA_OPTS", "-XX:AOTMode=on")),
                List.of(home.resolve("bin/coecho").toString(), "--version"));
        assertEquals(0, on.exit(), "the cache is used: " + on.stdout() + on.stderr());
        assertQuiet(Command.run(WAIT, NOTHING_INSTALLED, List.of(home.resolve("bin/coecho").toString(), "--version")));
    }

    @Test
    void aStaleOrMissingAotCacheCostsTheCacheAndNothingElse() throws Exception {
        Command.run(WAIT, List.of("tar", "-xzf", tarball.toString(), "-C", spare.toString())).ok("tar -x");
        Path copy = spare.resolve("coecho-" + Packages.version());
        String bin = copy.resolve("bin/coecho").toString();
        // A jar changed after the training (here only its time stamp): the JVM refuses the cache...
        Path jar = copy.resolve("lib/coecho.jar");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));
        Command on = Command.run(WAIT, NOTHING_INSTALLED.andThen(env -> env.put("COECHO_JAVA_OPTS", "-XX:AOTMode=on")),
                List.of(bin, "--version"));
        assertTrue(on.exit() != 0 && (on.stdout() + on.stderr()).contains("Unable to use AOT cache"),
                "stale: " + on.stdout() + on.stderr());
        // ...and starts without it, saying nothing about it (its warnings would go to stdout), and serves.
        assertQuiet(Command.run(WAIT, NOTHING_INSTALLED, List.of(bin, "--version")));
        servesOnce(bin);
        // No cache at all: the launcher does not ask for one.
        Files.delete(copy.resolve("lib/coecho.aot"));
        assertQuiet(Command.run(WAIT, NOTHING_INSTALLED, List.of(bin, "--version")));
        servesOnce(bin);
    }

    /** -XX:+PrintCommandLineFlags's line without the flags about AOT caches and archives. */
    private static List<String> withoutAot(String flags) {
        return Arrays.stream(flags.trim().split(" ")).filter(f -> !f.matches("-XX:[+-]?(AOT|AllowArchiving).*")).toList();
    }

    /** `coecho --version`'s one line and nothing else, on either stream. */
    private static void assertQuiet(Command version) throws Exception {
        assertEquals(0, version.exit(), version.stderr());
        assertEquals(List.of("coecho " + Packages.version()), version.stdout().lines().map(l -> l.replaceFirst(",.*", "")).toList(),
                "one line: " + version.stdout());
        assertEquals("", version.stderr());
    }

    /** Starts bin's serve, echoes once, stops it with SIGTERM: a clean exit, no JVM line about AOT on stderr. */
    private static void servesOnce(String bin) throws Exception {
        List<String> serve = List.of(bin, "serve", "--port", "0", "--bind", "127.0.0.1", "--threads", "1");
        try (ServerProcess p = ServerProcess.startCommand(serve, NOTHING_INSTALLED)) {
            try (Socket s = new Socket(p.address().getAddress(), p.address().getPort())) {
                s.setSoTimeout(10_000);
                Traffic.echo(s, "no cache\n".getBytes(StandardCharsets.US_ASCII), "echo without the AOT cache");
            }
            p.terminate();
            assertEquals(0, p.awaitExit(WAIT), p.stderr().toString());
            assertFalse(p.stderr().stream().anyMatch(l -> l.contains("][aot") || l.contains("AOT cache")), p.stderr().toString());
        }
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
