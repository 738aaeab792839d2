package io.coecho;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The distribution tarball and the Debian package, built by the very scripts {@code ./coecho dist}
 * and {@code ./coecho deb} run, from the jar under test, into target/it-packages/: once per test
 * JVM (about 15 s for both on two cores), shared by the tests that inspect and run them.
 *
 * <p>Thread-safe.
 */
final class Packages {
    private static final Duration BUILD = Duration.ofMinutes(4);
    private static Path tarball;
    private static Path deb;

    private Packages() {}

    /** The repository: the folder that holds target/coecho.jar. */
    static Path root() {
        return jar().getParent().getParent();
    }

    static Path jar() {
        String jar = System.getProperty("coecho.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "system property coecho.jar must name the built jar");
        return Path.of(jar).toAbsolutePath();
    }

    /** The version the jar reports, as the packages are named. */
    static String version() throws IOException, InterruptedException {
        JarRun v = JarRun.of(List.of("--version"));
        return v.stdout().replaceFirst("(?s)^coecho ([^ ,]+),.*", "$1");
    }

    /** packaging/dist.sh JAR target/it-packages, once. */
    static synchronized Path tarball() throws IOException, InterruptedException {
        if (tarball == null) {
            Command c = Command.run(BUILD, env -> env.put("JAVA_HOME", System.getProperty("java.home")),
                    List.of(root().resolve("packaging/dist.sh").toString(), jar().toString(), out().toString())).ok("dist.sh");
            tarball = Path.of(c.lastLine());
            assertTrue(Files.isRegularFile(tarball), "dist.sh printed " + c.lastLine());
            System.out.println(c.stderr().strip());
        }
        return tarball;
    }

    /** packaging/deb.sh on that tarball, once. */
    static synchronized Path deb() throws IOException, InterruptedException {
        if (deb == null) {
            Command c = Command.run(BUILD, List.of(root().resolve("packaging/deb.sh").toString(), tarball().toString(),
                    out().toString())).ok("deb.sh");
            deb = Path.of(c.lastLine());
            assertTrue(Files.isRegularFile(deb), "deb.sh printed " + c.lastLine());
            System.out.println(c.stderr().strip());
        }
        return deb;
    }

    private static Path out() {
        return root().resolve("target/it-packages");
    }
}
