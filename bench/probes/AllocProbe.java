import io.coecho.runtime.TransportChoice;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.net.Transport;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;

/**
 * Bytes the event loop's thread allocates per echo of a 32-byte message, in rounds of 20,000 ping-pong
 * echoes on one connection (the first rounds include the JIT's warm-up). A count, not a timing: the
 * same on a busy machine. Run by bench/alloc-probe.sh; TRANSPORT is epoll or nio.
 */
public class AllocProbe {
    public static void main(String[] a) throws Exception {
        Transport t = TransportChoice.parse(a[0]).open();
        EventLoop loop = t.newLoop("probe", 16 * 1024).start();
        TcpListener l = t.listen(loop, new InetSocketAddress("127.0.0.1", 0), new ListenOptions(16, false));
        Task.of(loop, "echo", () -> {
            try (TcpStream s = l.accept()) {
                MemorySegment buf = loop.scratch();
                for (int n; (n = s.read(buf)) > 0; ) {
                    s.write(buf, n);
                }
            }
            return (Void) null;
        }).toFuture();
        CompletableFuture<Long> tid = new CompletableFuture<>();
        loop.execute(() -> tid.complete(Thread.currentThread().threadId()));
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Socket c = new Socket("127.0.0.1", l.localAddress().getPort())) {
            c.setTcpNoDelay(true);
            byte[] msg = new byte[32];
            byte[] in = new byte[32];
            for (int round = 0; round < 10; round++) {
                long before = mx.getThreadAllocatedBytes(tid.get());
                int n = 20_000;
                for (int i = 0; i < n; i++) {
                    c.getOutputStream().write(msg);
                    for (int got = 0; got < 32; ) got += c.getInputStream().read(in, got, 32 - got);
                }
                long after = mx.getThreadAllocatedBytes(tid.get());
                System.out.printf("%s round %d: %.1f bytes allocated per echo on the loop thread%n", a[0], round, (after - before) / (double) n);
            }
        }
        System.exit(0);
    }
}
