import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A stand-in for {@code coecho bench}, used by bench/run.sh only while the real load generator is not
 * in target/coecho.jar. Same options and JSON fields as its planned CLI, but a plain design: one
 * virtual thread per connection on blocking JDK sockets, closed loop (send P messages, read their
 * echo, verify, repeat). Not a measuring instrument to trust at scale: it exists so the harness can
 * be exercised end to end. Run as a source file with target/coecho.jar (HdrHistogram) on the class
 * path: {@code java -cp target/coecho.jar bench/standin/StandInLoad.java HOST PORT [options]}.
 */
public final class StandInLoad {
    private static final LongAdder MESSAGES = new LongAdder();
    private static final LongAdder MISMATCH = new LongAdder();
    private static final LongAdder CONNECT = new LongAdder();
    private static final LongAdder RESET = new LongAdder();
    private static final LongAdder EOF = new LongAdder();
    private static final Recorder LATENCY = new Recorder(3);
    private static volatile boolean stop;
    private static volatile boolean measuring;

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int connections = 1, size = 32, pipeline = 1;
        double duration = 10, warmup = 2;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--duration" -> duration = seconds(args[++i]);
                case "--warmup" -> warmup = seconds(args[++i]);
                case "--size" -> size = Integer.parseInt(args[++i]);
                case "--pipeline" -> pipeline = Integer.parseInt(args[++i]);
                case "--threads" -> i++; // virtual threads: the JDK's scheduler decides
                case "--json" -> { }
                default -> throw new IllegalArgumentException("stand-in load generator: unknown option " + args[i]);
            }
        }
        InetSocketAddress at = new InetSocketAddress(host, port);
        List<Thread> threads = new ArrayList<>();
        AtomicLong[] served = new AtomicLong[connections];
        for (int c = 0; c < connections; c++) {
            served[c] = new AtomicLong();
            final AtomicLong mine = served[c];
            final int sz = size, pl = pipeline;
            threads.add(Thread.ofVirtual().start(() -> drive(at, sz, pl, mine)));
        }
        Thread.sleep((long) (warmup * 1000));
        long[] before = Arrays.stream(served).mapToLong(AtomicLong::get).toArray();
        LATENCY.getIntervalHistogram();
        MESSAGES.reset();
        measuring = true;
        long start = System.nanoTime();
        Thread.sleep((long) (duration * 1000));
        measuring = false;
        double elapsed = (System.nanoTime() - start) / 1e9;
        Histogram h = LATENCY.getIntervalHistogram();
        long silent = 0;
        for (int c = 0; c < connections; c++) {
            if (served[c].get() == before[c]) {
                silent++;
            }
        }
        stop = true;
        for (Thread t : threads) {
            t.join(2000);
        }
        double rate = MESSAGES.sum() / elapsed;
        long errors = MISMATCH.sum() + CONNECT.sum() + RESET.sum() + EOF.sum() + silent;
        System.out.printf(java.util.Locale.ROOT,
                "{\"loadgen\":\"standin\",\"msgs_per_s\":%.1f,\"mib_per_s\":%.3f,\"messages\":%d,\"duration_s\":%.3f,"
                        + "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},"
                        + "\"errors\":{\"mismatch\":%d,\"connect\":%d,\"reset\":%d,\"eof\":%d,\"silent\":%d},\"ok\":%b}%n",
                rate, rate * size / (1024.0 * 1024.0), MESSAGES.sum(), elapsed,
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3,
                MISMATCH.sum(), CONNECT.sum(), RESET.sum(), EOF.sum(), silent, errors == 0);
        System.exit(errors == 0 ? 0 : 1);
    }

    private static double seconds(String s) {
        return s.endsWith("ms") ? Double.parseDouble(s.substring(0, s.length() - 2)) / 1000
                : Double.parseDouble(s.endsWith("s") ? s.substring(0, s.length() - 1) : s);
    }

    private static void drive(InetSocketAddress at, int size, int pipeline, AtomicLong served) {
        byte[] out = new byte[size * pipeline];
        byte[] in = new byte[out.length];
        long[] sentAt = new long[pipeline];
        long round = 0;
        try (Socket s = new Socket()) {
            try {
                s.connect(at, 10_000);
                s.setTcpNoDelay(true);
            } catch (IOException e) {
                CONNECT.increment();
                return;
            }
            OutputStream os = s.getOutputStream();
            InputStream is = s.getInputStream();
            while (!stop) {
                round++;
                for (int i = 0; i < out.length; i++) {
                    out[i] = (byte) (round * 31 + i);
                }
                long now = System.nanoTime();
                Arrays.fill(sentAt, now);
                os.write(out);
                int got = 0;
                while (got < in.length) {
                    int n = is.read(in, got, in.length - got);
                    if (n < 0) {
                        if (!stop) {
                            EOF.increment();
                        }
                        return;
                    }
                    int before = got / size;
                    got += n;
                    long t = System.nanoTime();
                    for (int m = before; m < got / size; m++) {
                        if (measuring) {
                            LATENCY.recordValue(t - sentAt[m]);
                        }
                        MESSAGES.increment();
                        served.incrementAndGet();
                    }
                }
                if (!Arrays.equals(in, out)) {
                    MISMATCH.increment();
                    return;
                }
            }
        } catch (IOException e) {
            if (!stop) {
                RESET.increment();
            }
        }
    }
}
