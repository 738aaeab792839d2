package io.coecho;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Debian package ({@code ./coecho deb}), built from the distribution and inspected as an
 * operator would before installing it: its control fields and file list (dpkg-deb -I, -c), its
 * systemd unit field by field and through {@code systemd-analyze verify}, and its service command run
 * the way the unit runs it: options from /etc/default/coecho, an unprivileged user holding only
 * CAP_NET_BIND_SERVICE, no new privileges, readiness through NOTIFY_SOCKET.
 *
 * <p>Nothing is installed on the test machine: the package is unpacked into a temporary folder.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DebPackageIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String UNIT = "lib/systemd/system/coecho.service";
    /** nobody: the uid a DynamicUser= stands for (any uid without privileges will do). */
    private static final String UNPRIVILEGED = "65534";

    @TempDir
    static Path dir;
    private static Path deb;
    /** The package's files, as dpkg would install them under /. */
    private static Path root;

    @BeforeAll
    // The class's @Timeout covers the tests, not this: building the runtime with jlink is minutes of
    // CPU on a busy machine (over a minute seen at load 30), which the suite's 60 s default is not for.
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    static void unpack() throws Exception {
        deb = Packages.deb();
        // Readable by the unprivileged user that runs the service command below.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        root = dir.resolve("root");
        Command.run(WAIT, List.of("dpkg-deb", "-x", deb.toString(), root.toString())).ok("dpkg-deb -x");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @Test
    void theControlFieldsNameThePackageItsVersionAndArchitecture() throws Exception {
        String info = Command.run(WAIT, List.of("dpkg-deb", "-I", deb.toString())).ok("dpkg-deb -I").stdout();
        Map<String, String> f = new LinkedHashMap<>();
        for (String line : info.lines().toList()) {
            Matcher m = Pattern.compile("^ ([A-Za-z-]+): (.*)$").matcher(line);
            if (m.matches()) {
                f.put(m.group(1), m.group(2));
            }
        }
        assertEquals("coecho", f.get("Package"), info);
        assertEquals(Packages.version(), f.get("Version"), info);
        assertEquals(System.getProperty("os.arch").equals("amd64") ? "amd64" : "arm64", f.get("Architecture"), info);
        assertEquals("libc6", f.get("Depends"), "the runtime inside needs the C library alone");
        assertTrue(Integer.parseInt(f.get("Installed-Size")) > 10_000, info);
        assertNotNull(f.get("Maintainer"), info);
        assertTrue(f.getOrDefault("Description", "").contains("echo server"), info);
        assertEquals("coecho_" + Packages.version() + "_" + f.get("Architecture") + ".deb", deb.getFileName().toString());
        System.out.printf("deb: %s, %d KiB, %s KiB installed%n", deb.getFileName(), Files.size(deb) / 1024, f.get("Installed-Size"));
    }

    @Test
    void theFilesBelongToRootAndInstallUnderUsrLibCoecho() throws Exception {
        String list = Command.run(WAIT, List.of("dpkg-deb", "-c", deb.toString())).ok("dpkg-deb -c").stdout();
        Map<String, String> modes = new LinkedHashMap<>();
        Map<String, String> links = new LinkedHashMap<>();
        for (String line : list.lines().toList()) {
            String[] w = line.trim().split("\\s+", 6);
            assertEquals("root/root", w[1], "owner of " + line);
            String path = w[5];
            int arrow = path.indexOf(" -> ");
            String link = arrow >= 0 ? path.substring(0, arrow) : path;
            if (arrow >= 0 && !path.startsWith("./usr/lib/coecho/runtime/legal/")) { // jlink links the modules' licences
                links.put(link, path.substring(arrow + 4));
            }
            path = link;
            modes.put(path, w[0]);
            assertTrue(List.of("./", "./etc/", "./etc/default/", "./lib/", "./lib/systemd/", "./lib/systemd/system/", "./usr/",
                    "./usr/bin/", "./usr/lib/", "./usr/share/", "./usr/share/doc/").contains(path)
                    || path.startsWith("./usr/lib/coecho/") || path.startsWith("./usr/share/doc/coecho/")
                    || path.equals("./usr/bin/coecho") || path.equals("./" + UNIT) || path.equals("./etc/default/coecho"),
                    "nothing outside coecho's places: " + path);
        }
        assertEquals("-rwxr-xr-x", modes.get("./usr/lib/coecho/bin/coecho"));
        assertEquals("-rwxr-xr-x", modes.get("./usr/lib/coecho/runtime/bin/java"));
        assertEquals("-rw-r--r--", modes.get("./usr/lib/coecho/lib/coecho.jar"));
        assertEquals("-rw-r--r--", modes.get("./usr/lib/coecho/lib/coecho.aot"), "readable by the service's dynamic user");
        assertEquals("-rw-r--r--", modes.get("./" + UNIT));
        assertEquals("-rw-r--r--", modes.get("./etc/default/coecho"));
        assertEquals(Map.of("./usr/bin/coecho", "../lib/coecho/bin/coecho"), links);

        Path control = dir.resolve("control");
        Command.run(WAIT, List.of("dpkg-deb", "-e", deb.toString(), control.toString())).ok("dpkg-deb -e");
        assertEquals("/etc/default/coecho\n", Files.readString(control.resolve("conffiles")), "the options survive upgrades");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertTrue(Files.isExecutable(control.resolve(script)), script);
            Command.run(WAIT, List.of("sh", "-n", control.resolve(script).toString())).ok("sh -n " + script);
        }
        // Through the /usr/bin link, as a user types it.
        String version = Command.run(WAIT, List.of(root.resolve("usr/bin/coecho").toString(), "--version")).ok("coecho --version").stdout();
        assertTrue(version.startsWith("coecho " + Packages.version() + ","), version);
        // With its AOT cache: -XX:AOTMode=on stops a JVM that cannot use it, and dpkg-deb kept the jar's
        // time stamp, which the cache was made against.
        Command aot = Command.run(WAIT, env -> env.put("COECHO_JAVA_OPTS", "-XX:AOTMode=on"),
                List.of(root.resolve("usr/bin/coecho").toString(), "--version"));
        assertEquals(0, aot.exit(), "the AOT cache is used: " + aot.stdout() + aot.stderr());
    }

    @Test
    void theUnitIsWrittenForThisServer() throws Exception {
        Map<String, List<String>> service = unit().get("Service");
        assertEquals(List.of("notify"), service.get("Type"), "readiness from the server itself");
        assertEquals(List.of("main"), service.get("NotifyAccess"));
        assertEquals(List.of("-/etc/default/coecho"), service.get("EnvironmentFile"));
        assertTrue(Files.isRegularFile(root.resolve("etc/default/coecho")), "the package ships the environment file");
        assertEquals(List.of("/usr/lib/coecho/bin/coecho serve $COECHO_OPTS"), service.get("ExecStart"));
        assertTrue(Files.isExecutable(root.resolve("usr/lib/coecho/bin/coecho")));
        assertEquals(List.of("yes"), service.get("DynamicUser"));
        assertEquals(List.of("CAP_NET_BIND_SERVICE"), service.get("AmbientCapabilities"));
        assertEquals(List.of("CAP_NET_BIND_SERVICE"), service.get("CapabilityBoundingSet"));
        assertTrue(Long.parseLong(service.get("LimitNOFILE").getFirst()) > 65_536, "above --max-connections' default");
        for (String[] kv : new String[][] {{"NoNewPrivileges", "yes"}, {"ProtectSystem", "strict"}, {"ProtectHome", "yes"},
                {"PrivateTmp", "yes"}, {"PrivateDevices", "yes"}, {"ProtectKernelTunables", "yes"},
                {"ProtectControlGroups", "yes"}, {"RestrictNamespaces", "yes"}, {"KillSignal", "SIGTERM"}}) {
            assertEquals(List.of(kv[1]), service.get(kv[0]), kv[0]);
        }
        assertFalse(service.containsKey("MemoryDenyWriteExecute"), "the JIT writes code and runs it");
        assertFalse(service.containsKey("SuccessExitStatus"), "a clean drain exits 0, success as it is");
        assertEquals(List.of("multi-user.target"), unit().get("Install").get("WantedBy"));

        // The stop timeout outlasts the drain the shipped options allow (and the server's default).
        Duration stop = seconds(service.get("TimeoutStopSec").getFirst());
        List<String> opts = serveOptions();
        int at = opts.indexOf("--shutdown-timeout");
        Duration drain = at >= 0 ? seconds(opts.get(at + 1)) : Duration.ofSeconds(5);
        assertTrue(stop.compareTo(drain.plusSeconds(5)) >= 0, "TimeoutStopSec " + stop + " against a drain of " + drain);
    }

    @Test
    void systemdAcceptsTheUnit() throws Exception {
        // systemd-analyze verify in the unpacked tree: it checks every directive and that ExecStart's
        // program exists there. It needs the targets the unit refers to, copied from this machine.
        Path units = root.resolve("lib/systemd/system");
        Path host = Path.of("/lib/systemd/system");
        for (String target : List.of("sysinit.target", "basic.target", "shutdown.target", "multi-user.target",
                "network.target")) {
            if (!Files.exists(units.resolve(target))) {
                Files.copy(host.resolve(target), units.resolve(target));
            }
        }
        try {
            Command v = Command.run(WAIT, List.of("systemd-analyze", "verify", "--root=" + root, "--man=no", "coecho.service"));
            assertEquals(0, v.exit(), v.stderr());
            assertEquals("", (v.stdout() + v.stderr()).strip(), "no warning about any directive");
        } finally {
            for (String target : List.of("sysinit.target", "basic.target", "shutdown.target", "multi-user.target",
                    "network.target")) {
                Files.deleteIfExists(units.resolve(target));
            }
        }
    }

    @Test
    void theServiceCommandServesPort7AsAnUnprivilegedUserWithTheUnitsCapabilityAlone() throws Exception {
        // What systemd runs: ExecStart with $COECHO_OPTS from /etc/default/coecho split at spaces, as a
        // user with no privileges but CAP_NET_BIND_SERVICE (ambient), no new privileges, NOTIFY_SOCKET
        // set. In a network namespace of its own, so that port 7 is free whatever this machine runs.
        Path sockets = Files.createDirectories(dir.resolve("run"));
        Files.setPosixFilePermissions(sockets, PosixFilePermissions.fromString("rwxrwxrwx"));
        List<String> serve = new ArrayList<>(List.of(root.resolve("usr/lib/coecho/bin/coecho").toString(), "serve"));
        serve.addAll(serveOptions());
        List<String> asTheUnit = new ArrayList<>(List.of("unshare", "-n", "setpriv", "--reuid=" + UNPRIVILEGED,
                "--regid=" + UNPRIVILEGED, "--clear-groups", "--no-new-privs", "--bounding-set=-all,+net_bind_service",
                "--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service"));
        asTheUnit.addAll(serve);
        try (NotifySocket manager = NotifySocket.bind(sockets.resolve("notify").toString())) {
            Files.setPosixFilePermissions(Path.of(manager.address()), PosixFilePermissions.fromString("rwxrwxrwx"));
            Map<String, String> environment = environmentFile();
            try (ServerProcess p = ServerProcess.startCommand(asTheUnit, env -> {
                env.clear();
                env.put("PATH", "/usr/bin:/bin");
                env.putAll(environment);
                env.put("NOTIFY_SOCKET", manager.address());
            })) {
                assertEquals(7, p.address().getPort(), "the RFC 862 port, from /etc/default/coecho");
                NotifySocket.Message ready = manager.receive(WAIT);
                assertEquals("1", ready.get("READY"), ready.text());
                assertEquals(p.pid(), ready.pid(), "the JVM is the main process: unshare, setpriv and bin/coecho exec");
                p.terminate();
                assertEquals("1", manager.receive(WAIT).get("STOPPING"));
                assertEquals(0, p.awaitExit(WAIT), p.stderr().toString());
            }
        }
        // Without the capability the same command is refused the port: it is the capability that works.
        List<String> withoutCap = new ArrayList<>(List.of("unshare", "-n", "setpriv", "--reuid=" + UNPRIVILEGED,
                "--regid=" + UNPRIVILEGED, "--clear-groups", "--no-new-privs", "--bounding-set=-all",
                "--inh-caps=-all", "--ambient-caps=-all"));
        withoutCap.addAll(serve);
        Command refused = Command.run(WAIT, env -> env.put("PATH", "/usr/bin:/bin"), withoutCap);
        assertEquals(1, refused.exit(), refused.stderr());
        assertEquals(List.of("coecho: cannot bind 0.0.0.0:7: permission denied"),
                refused.stderr().lines().filter(l -> !l.isBlank()).toList());
    }

    /** The unit file: section → key → values in order (a key may repeat). */
    private static Map<String, Map<String, List<String>>> unit() throws Exception {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> current = null;
        for (String raw : Files.readAllLines(root.resolve(UNIT))) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                current = sections.computeIfAbsent(line.substring(1, line.length() - 1), k -> new LinkedHashMap<>());
                continue;
            }
            int eq = line.indexOf('=');
            assertTrue(current != null && eq > 0, "not a unit line: " + raw);
            current.computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>()).add(line.substring(eq + 1).strip());
        }
        return sections;
    }

    /** /etc/default/coecho as EnvironmentFile= reads it: KEY=value or KEY="value" lines, # comments. */
    private static Map<String, String> environmentFile() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        for (String raw : Files.readAllLines(root.resolve("etc/default/coecho"))) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            Matcher m = Pattern.compile("^([A-Za-z_][A-Za-z0-9_]*)=\"?(.*?)\"?$").matcher(line);
            assertTrue(m.matches(), "not an assignment: " + raw);
            env.put(m.group(1), m.group(2));
        }
        return env;
    }

    /** $COECHO_OPTS split at whitespace, as systemd expands an unbraced variable in ExecStart. */
    private static List<String> serveOptions() throws Exception {
        String opts = environmentFile().get("COECHO_OPTS");
        assertNotNull(opts, "COECHO_OPTS in /etc/default/coecho");
        return Arrays.stream(opts.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    /** "30s", "30", "2min" as systemd and coecho write them (the forms used here). */
    private static Duration seconds(String v) {
        Matcher m = Pattern.compile("^(\\d+)(s|min|m)?$").matcher(v);
        assertTrue(m.matches(), "a duration: " + v);
        long n = Long.parseLong(m.group(1));
        return m.group(2) != null && m.group(2).startsWith("m") ? Duration.ofMinutes(n) : Duration.ofSeconds(n);
    }
}
