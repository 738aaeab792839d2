package io.coecho;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A client that sends fast and reads slowly, with a small receive window: the server's sends go
 * partial and must resume when the socket is writable again, never lose or reorder a byte, and never
 * treat the partial write as an error. Sizes from 1 B to 16 MiB (more where the kernel buffers more).
 */
class SlowReaderIT {
    /** Client receive buffer: small, so the server's send buffer fills and its writes block. */
    private static final int CLIENT_RCVBUF = 8 * 1024;
    /**
     * Payloads at least this large cannot fit in the server's send buffer (which autotunes up to
     * net.ipv4.tcp_wmem's maximum, read from this machine) plus the reader's window and its first
     * 64 KiB: a reader that stops there makes the server's write wait (see readSlowly).
     */
    private static final int STALL_ABOVE = tcpSendBufferMax() + (1 << 20);
    /** The largest payload: 16 MiB, or more where the kernel's buffers are larger, so that it stalls. */
    private static final int MAX = Math.max(16 * 1024 * 1024, STALL_ABOVE);

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void slowReaderGetsEveryByte(ServerTarget target) throws Exception {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        // 1 B, 16 MiB, and sizes spread evenly on a log scale between them.
        int[] sizes = {1, logUniform(random), logUniform(random), logUniform(random), logUniform(random), MAX};
        try (TestServer server = TestServer.start(target)) {
            for (int size : sizes) {
                String what = target + ", " + size + " B, seed " + seed;
                byte[] payload = Traffic.payload(random, size);
                try (Socket s = server.connect(c -> c.setReceiveBufferSize(CLIENT_RCVBUF))) {
                    Traffic.Sender sender = Traffic.Sender.start(s, payload, true);
                    byte[] back = readSlowly(s.getInputStream(), size, random, server);
                    Traffic.assertEof(s.getInputStream(), what);
                    sender.join();
                    assertArrayEquals(payload, back, what + ": echo differs");
                }
            }
            // The point of a slow reader: the server's writes had to wait and resume on readiness.
            assertTrue(server.server().stats().writeWaits() > 0,
                    target + ": no write ever waited, so the resume path was not exercised");
        }
    }

    private static int tcpSendBufferMax() {
        try {
            String[] wmem = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_wmem")).get(0)
                    .trim().split("\\s+");
            return Integer.parseInt(wmem[2]);
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("cannot read net.ipv4.tcp_wmem, which sizes this test's stalled payload", e);
        }
    }

    private static int logUniform(Random random) {
        return (int) Math.exp(random.nextDouble() * Math.log(MAX));
    }

    /**
     * Reads n bytes in small random chunks (1 B to 4 KiB a call) through an 8 KiB receive window. For a
     * payload larger than every buffer on the way, it stops reading after the first 64 KiB until the
     * server reports a write waiting for it: so the server's write goes partial and must resume on
     * readiness, every time, on any machine, and without guessing at a pause.
     */
    private static byte[] readSlowly(InputStream in, int n, Random random, TestServer server) throws Exception {
        byte[] b = new byte[n];
        int off = 0;
        boolean stalled = n < STALL_ABOVE;
        while (off < n) {
            int r = in.read(b, off, Math.min(n - off, 1 + random.nextInt(4096)));
            if (r < 0) {
                throw new java.io.EOFException("EOF after " + off + " of " + n + " bytes");
            }
            off += r;
            if (!stalled && off >= 64 * 1024) {
                stalled = true;
                server.awaitStats("the server's write waiting for this reader", st -> st.writesWaiting() >= 1);
            }
        }
        return b;
    }
}
