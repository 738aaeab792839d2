package io.coecho.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which coecho classes each compiled class refers to, read from the constant pools of a module's class
 * files (java.lang.classfile): names in class entries, field and method descriptors and generic
 * signatures, so a type used only in a signature counts too. The layering tests check their rules
 * against it. Nested classes count as their top-level class.
 *
 * <p>Stateless; any thread.
 */
public final class ClassReferences {
    private static final Pattern COECHO_NAME = Pattern.compile("io/coecho/[A-Za-z0-9_/$]+");
    /** The runtime's API: packages whose public types applications may use. */
    private static final Set<String> API_PACKAGES = Set.of("io.coecho.runtime", "io.coecho.runtime.coro",
            "io.coecho.runtime.reactor", "io.coecho.runtime.timer", "io.coecho.runtime.net");
    /**
     * The one class of a transport package offered to applications: sd_notify through the Linux
     * transport's syscall gate (a service on Linux tells systemd it is ready; elsewhere it does nothing).
     */
    private static final Set<String> LINUX_API = Set.of("io.coecho.runtime.linux.SystemdNotifier");
    /** Public only for the runtime's transports (Java has no friend packages): the transport SPI. */
    private static final Set<String> TRANSPORT_SPI = Set.of("io.coecho.runtime.reactor.Poller",
            "io.coecho.runtime.reactor.UnsentBytes");

    private ClassReferences() {}

    /** For each class compiled under classes (a module's target/classes), the coecho classes it names. */
    public static Map<String, Set<String>> read(Path classes) {
        Map<String, Set<String>> refs = new TreeMap<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                ClassModel model = ClassFile.of().parse(Files.readAllBytes(f));
                String self = topLevel(model.thisClass().asInternalName());
                Set<String> named = refs.computeIfAbsent(self, k -> new TreeSet<>());
                for (PoolEntry e : model.constantPool()) {
                    if (e instanceof Utf8Entry u) {
                        Matcher m = COECHO_NAME.matcher(u.stringValue());
                        while (m.find()) {
                            named.add(topLevel(m.group()));
                        }
                    }
                }
                named.remove(self);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return refs;
    }

    /** "A -> B" for each class in package from (exactly) that names a class of package to (exactly). */
    public static List<String> between(Map<String, Set<String>> refs, String from, String to) {
        return matching(refs, c -> packageOf(c).equals(from), c -> packageOf(c).equals(to));
    }

    /** "A -> B" for each class in package from or below it that names a class in package to or below. */
    public static List<String> betweenTrees(Map<String, Set<String>> refs, String from, String to) {
        return matching(refs, c -> inTree(c, from), c -> inTree(c, to));
    }

    /**
     * "A -> B" for each use of the runtime that bypasses its API: a transport's classes (linux, nio) or
     * the transport SPI. Empty for code that uses the runtime as an application should.
     */
    public static List<String> runtimeInternalsUsed(Map<String, Set<String>> refs) {
        return matching(refs, c -> !inTree(c, "io.coecho.runtime"),
                c -> inTree(c, "io.coecho.runtime") && !LINUX_API.contains(c)
                        && (!API_PACKAGES.contains(packageOf(c)) || TRANSPORT_SPI.contains(c)));
    }

    private static List<String> matching(Map<String, Set<String>> refs, java.util.function.Predicate<String> from,
            java.util.function.Predicate<String> to) {
        List<String> found = new ArrayList<>();
        refs.forEach((c, named) -> {
            if (from.test(c)) {
                named.stream().filter(to).forEach(n -> found.add(c + " -> " + n));
            }
        });
        return found;
    }

    static String packageOf(String className) {
        int dot = className.lastIndexOf('.');
        return dot < 0 ? "" : className.substring(0, dot);
    }

    private static boolean inTree(String className, String pkg) {
        return className.startsWith(pkg + ".");
    }

    private static String topLevel(String internalName) {
        int nested = internalName.indexOf('$');
        return (nested < 0 ? internalName : internalName.substring(0, nested)).replace('/', '.');
    }
}
