package io.coecho;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The seed's nc session: lines in, the same lines out, one at a time; and any byte value survives. */
class EchoIT {
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void linesComeBackAsTyped(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            OutputStream out = s.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), UTF_8));
            // As typed into nc: each line is sent, and its echo read, before the next.
            for (String line : List.of("hello", "", "Hello, coroutines!", "ünïcödé ✓", "x".repeat(10_000))) {
                out.write((line + "\n").getBytes(UTF_8));
                out.flush();
                assertEquals(line, in.readLine(), target + ": echo of a typed line");
            }
            s.shutdownOutput();
            assertEquals(null, in.readLine(), target + ": EOF after the client's EOF");
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void everyByteValueSurvives(ServerTarget target) throws Exception {
        byte[] all = new byte[256 * 64];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            // One byte at a time first (no framing assumed), then all of them in one write.
            for (int i = 0; i < 256; i++) {
                s.getOutputStream().write(i);
                assertEquals(i, s.getInputStream().read(), target + ": byte " + i);
            }
            Traffic.echo(s, all, target + ": bytes 0..255");
        }
    }

    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void twoClientsAreServedIndependently(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target); Socket a = server.connect(); Socket b = server.connect()) {
            // b is served while a sits idle mid-session, then a goes on.
            a.getOutputStream().write("a1\n".getBytes(UTF_8));
            assertArrayEquals("a1\n".getBytes(UTF_8), Traffic.readFully(a.getInputStream(), 3));
            b.getOutputStream().write("b1\n".getBytes(UTF_8));
            assertArrayEquals("b1\n".getBytes(UTF_8), Traffic.readFully(b.getInputStream(), 3));
            a.getOutputStream().write("a2\n".getBytes(UTF_8));
            assertArrayEquals("a2\n".getBytes(UTF_8), Traffic.readFully(a.getInputStream(), 3));
        }
    }
}
