package io.coecho.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class SourceLimitTest {

    @Test
    void admitsUpToTheLimitPerSourceAndForgetsSourcesWithNoneOpen() {
        SourceLimit limit = SourceLimit.of(2);
        InetAddress a = InetAddress.ofLiteral("192.0.2.1");
        InetAddress b = InetAddress.ofLiteral("2001:db8::1");
        InetAddress a1 = limit.tryAcquire(a);
        InetAddress a2 = limit.tryAcquire(a);
        assertNotNull(a1);
        assertNotNull(a2);
        assertNull(limit.tryAcquire(a), "a third from the same source");
        assertNotNull(limit.tryAcquire(b), "another source has its own count");
        limit.release(a1);
        assertEquals(1, limit.openFrom(a));
        assertNotNull(limit.tryAcquire(a), "a slot freed");
        limit.release(a1);
        limit.release(a2);
        assertEquals(0, limit.openFrom(a));
        assertNull(SourceLimit.of(0), "0: no limit");
    }

    @Test
    void anIpv4ClientSeenOnADualStackSocketIsTheSameSource() throws Exception {
        SourceLimit limit = SourceLimit.of(1);
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        mapped[12] = (byte) 192;
        mapped[15] = 1;
        // As the epoll transport decodes a dual-stack socket's peer: an Inet6Address holding ::ffff:192.0.0.1.
        InetAddress v6 = Inet6Address.getByAddress(null, mapped, 0);
        assertNotNull(limit.tryAcquire(v6));
        assertNull(limit.tryAcquire(InetAddress.ofLiteral("192.0.0.1")));
    }

    @Test
    @Timeout(30)
    void neverAdmitsMoreThanTheLimitUnderContention() throws Exception {
        SourceLimit limit = SourceLimit.of(3);
        InetAddress a = InetAddress.ofLiteral("198.51.100.1");
        AtomicInteger open = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 20_000; i++) {
                    InetAddress key = limit.tryAcquire(a);
                    if (key != null) {
                        most.accumulateAndGet(open.incrementAndGet(), Math::max);
                        open.decrementAndGet();
                        limit.release(key);
                    }
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, limit.openFrom(a));
        assertEquals(true, most.get() <= 3, "at most 3 at once, saw " + most.get());
    }
}
