package io.coecho;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TCP urgent data (MSG_OOB) is echoed in place like every other byte: RFC 862 returns every byte,
 * and RFC 6093 says applications should read urgent data inline (SO_OOBINLINE). Without it the
 * kernel keeps the urgent byte out of the stream and a plain read never sees it.
 */
class UrgentDataIT {
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void urgentByteComesBackInPlace(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            sendWithUrgentByte(s, "abc", 'X', "def");
            s.shutdownOutput();
            assertEquals("abcXdef", readToEof(s.getInputStream()), target + ": echo of abc, urgent X, def");
        }
    }

    /** No EOF to end the echo: the bytes after the urgent mark must still come back, and more after. */
    @ParameterizedTest
    @MethodSource("io.coecho.ServerTarget#selected")
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void bytesAfterTheUrgentMarkComeBackWithoutEof(ServerTarget target) throws Exception {
        try (TestServer server = TestServer.start(target); Socket s = server.connect()) {
            sendWithUrgentByte(s, "abc", 'X', "def");
            assertEquals("abcXdef", new String(Traffic.readFully(s.getInputStream(), 7), US_ASCII), target + ": echo");
            s.getOutputStream().write("ghi".getBytes(US_ASCII));
            assertEquals("ghi", new String(Traffic.readFully(s.getInputStream(), 3), US_ASCII), target + ": then");
        }
    }

    private static void sendWithUrgentByte(Socket s, String before, char urgent, String after) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(before.getBytes(US_ASCII));
        s.sendUrgentData(urgent); // one byte with MSG_OOB
        out.write(after.getBytes(US_ASCII));
    }

    private static String readToEof(InputStream in) throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        return all.toString(US_ASCII);
    }
}
