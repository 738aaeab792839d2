package io.coecho.faults;

import io.coecho.ServerProcess;
import io.coecho.ServerTarget;
import io.coecho.examples.forwarder.Forwarder;
import io.coecho.examples.forwarder.Toxics;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak of issue 12: one server process (as shipped: the launcher's JVM options), the
 * {@link SoakLoad} mix against it for a given time, and every few seconds a sample of what a leak
 * would show: resident set, open descriptors, threads, live heap after a full collection (jcmd
 * GC.run, then GC.heap_info), and echo errors. After a warm-up, a least-squares line through each
 * figure. The run fails
 *
 * <ul>
 *   <li>on any echo error;
 *   <li>on a slope above its bound with 95% confidence (the lower end of the slope's 95% interval
 *       above the bound: a short run's wide interval fails only a gross leak, a long run's narrow one
 *       a small one): RSS {@value #RSS_MIB_PER_HOUR} MiB/h, heap {@value #HEAP_MIB_PER_HOUR} MiB/h,
 *       descriptors and threads {@value #FDS_PER_HOUR} per hour; and only when the growth the slope
 *       amounts to over the fitted window is more than noise (RSS_FLOOR_MIB and the others): a step of
 *       a MiB in a 20-second window is not a leak of hundreds of MiB an hour;
 *   <li>if, once the load has stopped, the server's descriptors do not return to their count before
 *       it began (within 30 s: the idle timeout reaps anything left), or it does not exit 0 on SIGTERM.
 * </ul>
 *
 * <p>Writes samples.csv and summary.json to the output folder; bench/soak.sh plots them. Runs on the
 * calling thread (the load on its own threads); one run per instance.
 */
final class Soak {
    static final double RSS_MIB_PER_HOUR = 8;
    static final double HEAP_MIB_PER_HOUR = 2;
    static final double FDS_PER_HOUR = 20;
    static final double THREADS_PER_HOUR = 20;
    /**
     * Growth over the fitted window that a run cannot tell from noise, per figure: a late JIT
     * compilation or a malloc arena steps RSS by a MiB or two, and a step inside a short window is a
     * steep line. A slope fails only if the growth it amounts to over the window also exceeds this.
     */
    static final double RSS_FLOOR_MIB = 4;
    static final double HEAP_FLOOR_MIB = 1;
    static final double FDS_FLOOR = 16;
    static final double THREADS_FLOOR = 4;
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);
    /**
     * GC.heap_info's lines that total a generation: the serial collector's DefNew and Tenured, or G1's
     * heap ("garbage-first heap   total reserved 6172672K, committed 16384K, used 3615K" on JDK 25).
     */
    private static final Pattern HEAP_USED = Pattern.compile("(?m)^\\s*(?:DefNew|Tenured|def new generation|tenured generation|"
            + "garbage-first heap)\\s+total (?:reserved \\d+K, committed )?\\d+K, used (\\d+)K");

    /**
     * @param target the engine and transport to soak
     * @param duration how long the load runs
     * @param warmUp samples before this are plotted but not fitted (JIT, heap sizing, pools filling)
     * @param interval time between samples
     * @param out folder for samples.csv and summary.json
     */
    record Config(ServerTarget target, Duration duration, Duration warmUp, Duration interval, Path out) {
        /** The warm-up a quarter of the run (at most 2 minutes), a sample every run/120 (2 to 10 s). */
        static Config of(ServerTarget target, Duration duration, Path out) {
            Duration warmUp = duration.dividedBy(4).compareTo(Duration.ofMinutes(2)) > 0 ? Duration.ofMinutes(2)
                    : duration.dividedBy(4);
            long every = Math.clamp(duration.toMillis() / 120, 2_000, 10_000);
            return new Config(target, duration, warmUp, Duration.ofMillis(every), out);
        }
    }

    record Sample(double seconds, long rssKib, long heapKib, long fds, long threads, long errors, long echoed,
            long cycles, long reaped) {}

    /** A figure's trend after warm-up, per hour, with its 95% half-width, and the verdict against bound. */
    record Fit(String figure, double perHour, double halfWidth95, double bound, boolean ok) {}

    record Result(boolean ok, List<String> problems, List<Fit> fits, List<Sample> samples, String json) {}

    private Soak() {}

    static Result run(Config config) throws Exception {
        Files.createDirectories(config.out());
        List<Sample> samples = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        long seed = System.nanoTime();
        Toxics path = Toxics.builder().latency(Duration.ofMillis(2), Duration.ofMillis(1))
                .slicer(1024, 768, Duration.ofNanos(100_000)).build();
        try (ServerProcess server = Launch.serveAsShipped(config.target(),
                List.of("--threads", "2", "--idle-timeout", IDLE_TIMEOUT.toSeconds() + "s"));
                Forwarder proxy = Forwarder.start(config.target().proxyTransport(),
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), server.address(), seed)) {
            proxy.upstream(path);
            proxy.downstream(path);
            long pid = server.pid();
            awaitAttach(pid); // the first attach starts the JVM's attach listener: before the baseline
            int baselineFds = Fds.ofProcess(pid);
            SoakLoad load = new SoakLoad(server.address(), proxy.address(), IDLE_TIMEOUT);
            long start = System.nanoTime();
            load.start(seed);
            Path csv = config.out().resolve("samples.csv");
            Files.writeString(csv, "seconds,rss_kib,heap_after_gc_kib,fds,threads,errors,echoed_bytes,cycles,idle_reaped\n");
            long end = start + config.duration().toNanos();
            for (long next = start; next - end <= 0; next += config.interval().toNanos()) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000); // the sampling interval of a measurement
                }
                Sample s = new Sample((System.nanoTime() - start) / 1e9, Launch.rssKib(pid), heapAfterGcKib(pid),
                        Fds.ofProcess(pid), Launch.threads(pid), load.errors.get(), load.echoed.get(), load.cycles.get(),
                        load.reaped.get());
                samples.add(s);
                Files.writeString(csv, String.format(Locale.ROOT, "%.1f,%d,%d,%d,%d,%d,%d,%d,%d%n", s.seconds(), s.rssKib(),
                        s.heapKib(), s.fds(), s.threads(), s.errors(), s.echoed(), s.cycles(), s.reaped()),
                        java.nio.file.StandardOpenOption.APPEND);
            }
            load.stop();
            int fdsAfter = awaitFds(pid, baselineFds);
            if (fdsAfter != baselineFds) {
                problems.add("descriptors " + fdsAfter + " after the load, " + baselineFds + " before it");
            }
            if (load.errors.get() > 0) {
                problems.add(load.errors.get() + " echo errors, first: " + load.firstErrors);
            }
            if (load.reaped.get() == 0 || load.cycles.get() == 0) {
                problems.add("a part of the load did not run: " + load.cycles.get() + " cycles, " + load.reaped.get() + " reaped");
            }
            List<Fit> fits = fits(samples, config.warmUp().toNanos() / 1e9);
            for (Fit f : fits) {
                if (!f.ok()) {
                    problems.add(String.format(Locale.ROOT, "%s grows %.1f ± %.1f per hour, above %.0f", f.figure(), f.perHour(),
                            f.halfWidth95(), f.bound()));
                }
            }
            server.terminate();
            int exit = server.awaitExit(Duration.ofSeconds(30));
            if (exit != 0) {
                problems.add("exit " + exit + " after SIGTERM: " + server.stderr());
            }
            Sample last = samples.getLast();
            String json = json(config, problems, fits, last, baselineFds, fdsAfter, load);
            Files.writeString(config.out().resolve("summary.json"), json + "\n", StandardCharsets.UTF_8);
            return new Result(problems.isEmpty(), problems, fits, samples, json);
        }
    }

    /** Live heap after a full collection, in KiB: jcmd runs GC.run, then GC.heap_info, in one attach. */
    static long heapAfterGcKib(long pid) throws IOException, InterruptedException {
        Path commands = Files.createTempFile("coecho-soak-jcmd", ".txt");
        try {
            Files.writeString(commands, "GC.run\nGC.heap_info\n");
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), "-f", commands.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("jcmd failed: " + out);
            }
            Matcher m = HEAP_USED.matcher(out);
            long used = 0;
            boolean found = false;
            while (m.find()) {
                used += Long.parseLong(m.group(1));
                found = true;
            }
            if (!found) {
                throw new IOException("no heap figures in jcmd's output: " + out);
            }
            return used;
        } finally {
            Files.deleteIfExists(commands);
        }
    }

    /** Until jcmd gets heap figures from the process (its attach listener starts with the first attach). */
    private static void awaitAttach(long pid) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                heapAfterGcKib(pid);
                return;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(100); // polling a condition with a deadline
            }
        }
    }

    private static int awaitFds(long pid, int baseline) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int n;
        while ((n = Fds.ofProcess(pid)) != baseline && System.nanoTime() - deadline < 0) {
            Thread.sleep(50); // polling a condition with a deadline
        }
        return n;
    }

    static List<Fit> fits(List<Sample> samples, double warmUpSeconds) {
        List<Sample> after = samples.stream().filter(s -> s.seconds() >= warmUpSeconds).toList();
        double[] t = after.stream().mapToDouble(s -> s.seconds() / 3600).toArray();
        return List.of(
                fit("rss_mib", t, after.stream().mapToDouble(s -> s.rssKib() / 1024.0).toArray(), RSS_MIB_PER_HOUR,
                        RSS_FLOOR_MIB),
                fit("heap_after_gc_mib", t, after.stream().mapToDouble(s -> s.heapKib() / 1024.0).toArray(), HEAP_MIB_PER_HOUR,
                        HEAP_FLOOR_MIB),
                fit("fds", t, after.stream().mapToDouble(Sample::fds).toArray(), FDS_PER_HOUR, FDS_FLOOR),
                fit("threads", t, after.stream().mapToDouble(Sample::threads).toArray(), THREADS_PER_HOUR, THREADS_FLOOR));
    }

    /**
     * Least squares y = a + b t (t in hours): b and its 95% half-width (Student's t, n - 2 degrees of
     * freedom). Fails when b is above bound with 95% confidence and the growth over the window, b
     * times its length, is above floor.
     */
    static Fit fit(String figure, double[] t, double[] y, double bound, double floor) {
        int n = t.length;
        if (n < 3) {
            return new Fit(figure, Double.NaN, Double.NaN, bound, false);
        }
        double mt = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mt += t[i] / n;
            my += y[i] / n;
        }
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < n; i++) {
            sxx += (t[i] - mt) * (t[i] - mt);
            sxy += (t[i] - mt) * (y[i] - my);
        }
        double b = sxy / sxx;
        double sse = 0;
        for (int i = 0; i < n; i++) {
            double r = y[i] - (my + b * (t[i] - mt));
            sse += r * r;
        }
        double half = studentT975(n - 2) * Math.sqrt(sse / (n - 2) / sxx);
        boolean above = b - half > bound && b * (t[n - 1] - t[0]) > floor;
        return new Fit(figure, b, half, bound, !above);
    }

    /** The 97.5% quantile of Student's t: a table to 10 degrees of freedom, then a close approximation. */
    private static double studentT975(int dof) {
        double[] table = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};
        return dof <= table.length ? table[dof - 1] : 1.96 + 2.4 / dof;
    }

    private static String json(Config c, List<String> problems, List<Fit> fits, Sample last, int fdsBefore, int fdsAfter,
            SoakLoad load) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "{\"ok\":%b,\"target\":\"%s\",\"duration_s\":%d,\"warm_up_s\":%d,\"interval_s\":%d,",
                problems.isEmpty(), c.target(), c.duration().toSeconds(), c.warmUp().toSeconds(), c.interval().toSeconds()));
        b.append("\"problems\":[");
        for (int i = 0; i < problems.size(); i++) {
            b.append(i > 0 ? "," : "").append('"').append(problems.get(i).replace("\\", "\\\\").replace("\"", "'")).append('"');
        }
        b.append("],\"slopes_per_hour\":{");
        for (int i = 0; i < fits.size(); i++) {
            Fit f = fits.get(i);
            b.append(String.format(Locale.ROOT, "%s\"%s\":{\"slope\":%.2f,\"ci95\":%.2f,\"bound\":%.0f,\"ok\":%b}", i > 0 ? "," : "",
                    f.figure(), f.perHour(), f.halfWidth95(), f.bound(), f.ok()));
        }
        b.append(String.format(Locale.ROOT, "},\"last\":{\"rss_kib\":%d,\"heap_after_gc_kib\":%d,\"fds\":%d,\"threads\":%d},"
                + "\"fds_before_load\":%d,\"fds_after_load\":%d,\"errors\":%d,\"echoed_bytes\":%d,\"cycles\":%d,\"idle_reaped\":%d}",
                last.rssKib(), last.heapKib(), last.fds(), last.threads(), fdsBefore, fdsAfter, load.errors.get(), load.echoed.get(),
                load.cycles.get(), load.reaped.get()));
        return b.toString();
    }
}
