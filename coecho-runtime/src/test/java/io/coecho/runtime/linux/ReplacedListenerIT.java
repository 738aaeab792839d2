package io.coecho.runtime.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.runtime.coro.Task;
import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.reactor.EventLoop;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A listening descriptor whose number other code gave to another file (a double close elsewhere, then
 * a new socket; made deterministic here with dup2): accept fails with EINVAL, and the listener must
 * not close the number, which now names someone else's socket.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReplacedListenerIT {
    private static final MethodHandle DUP2 = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("dup2").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    @Test
    void aListenerWhoseNumberWasTakenLeavesItAlone() throws Throwable {
        EpollTransport transport = new EpollTransport();
        EventLoop loop = transport.newLoop("replaced", 4096).start();
        Syscalls sys = new Syscalls();
        int fd = -1;
        try {
            EpollTcpListener listener = (EpollTcpListener) transport.listen(loop,
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), new ListenOptions(8, false));
            fd = listener.fd();
            int other = Syscalls.orThrow("socket", sys.socket(LinuxConstants.AF_INET,
                    LinuxConstants.SOCK_STREAM | LinuxConstants.SOCK_CLOEXEC, 0));
            assertEquals(fd, (int) DUP2.invokeExact(other, fd), "dup2");
            sys.close(other);
            Task<String> acceptor = Task.of(loop, "acceptor", () -> {
                try (listener) {
                    listener.accept();
                    return "accepted";
                } catch (NativeException e) {
                    return Errno.name(e.errno());
                }
            }).start();
            assertEquals("EINVAL", acceptor.toFuture().get(10, TimeUnit.SECONDS), "accept on a socket that does not listen");
            assertTrue(sys.getIntOption(fd, LinuxConstants.SOL_SOCKET, LinuxConstants.SO_ERROR) >= 0,
                    "the listener closed the socket that had taken its number");
        } finally {
            if (fd >= 0) {
                sys.close(fd);
            }
            loop.stop();
            assertTrue(loop.awaitTermination(Duration.ofSeconds(10)), "loop did not stop");
        }
    }
}
