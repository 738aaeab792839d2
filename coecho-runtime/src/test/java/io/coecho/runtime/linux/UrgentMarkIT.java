package io.coecho.runtime.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.coro.Coroutine;
import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.TcpListener;
import io.coecho.runtime.net.TcpStream;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The epoll stream's readiness bit at TCP's urgent mark. recv stops at the mark even when bytes after
 * it are queued, so there a short read does not mean "drained"; if the stream took it so, it would
 * wait for an edge that never comes (every byte has arrived and been announced already).
 *
 * <p>Made deterministic by holding the read back until the kernel has queued all seven bytes and the
 * loop has polled once since: then no event is pending when the first read stops short at the mark.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class UrgentMarkIT {
    /** ioctl(fd, SIOCINQ, &n): bytes queued for reading (urgent byte included, it being inline). */
    private static final MethodHandle IOCTL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("ioctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final long SIOCINQ = 0x541B;

    @Test
    void bytesQueuedAfterTheMarkAreReadWithoutANewEdge() throws Exception {
        EpollTransport transport = new EpollTransport();
        EventLoop loop = transport.newLoop("urgent-mark", 4096).start();
        try {
            TcpListener listener = transport.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    new ListenOptions(8, false));
            Task<String> server = Task.of(loop, "server", () -> {
                try (listener; TcpStream s = listener.accept()) {
                    int fd = ((EpollTcpStream) s).fd();
                    // Resumed from the run queue from now on (not inline from an event), every yield
                    // spans one poll, which announces whatever has arrived.
                    Coroutine.yieldNow();
                    while (bytesQueued(fd) < 7) {
                        Coroutine.yieldNow();
                    }
                    Coroutine.yieldNow(); // a poll after the last byte arrived: no event is left pending
                    return readText(s, 7);
                }
            }).start();
            try (Socket client = new Socket()) {
                client.connect(listener.localAddress(), 10_000);
                client.getOutputStream().write("abc".getBytes(US_ASCII));
                client.sendUrgentData('X');
                client.getOutputStream().write("def".getBytes(US_ASCII));
                assertEquals("abcXdef", server.toFuture().get(20, TimeUnit.SECONDS), "what the stream read");
            }
        } finally {
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)), "loop did not stop");
        }
    }

    /** Reads until n bytes have come (the first read stops at the mark: "abc"). */
    private static String readText(TcpStream s, int n) throws Exception {
        MemorySegment buf = Arena.ofAuto().allocate(4096);
        StringBuilder got = new StringBuilder();
        while (got.length() < n) {
            int r = s.read(buf);
            if (r < 0) {
                break;
            }
            got.append(new String(buf.asSlice(0, r).toArray(JAVA_BYTE), US_ASCII));
        }
        return got.toString();
    }

    private static int bytesQueued(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment n = arena.allocate(JAVA_INT);
            int r = (int) IOCTL.invokeExact(fd, SIOCINQ, n);
            if (r < 0) {
                throw new IllegalStateException("ioctl(SIOCINQ) failed");
            }
            return n.get(JAVA_INT, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
