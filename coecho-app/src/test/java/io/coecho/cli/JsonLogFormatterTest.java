package io.coecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.coecho.server.LogField;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.StreamHandler;
import org.junit.jupiter.api.Test;

/**
 * The JSON log line, without a process: valid JSON on one line for any message, the fixed members,
 * the structured fields from {@link LogField} parameters, and UTF-8 on the way out.
 */
class JsonLogFormatterTest {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private final JsonLogFormatter formatter = new JsonLogFormatter();

    @Test
    void anyMessageIsOneLineOfValidJson() throws Exception {
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }
        controls.append('\u007f');
        List<String> messages = List.of("plain", "\"quoted\" and \\back\\slashed\\", "line one\nline two\r\n\ttabbed",
                controls.toString(), "separators \u2028 and \u2029", "non-BMP: \uD83D\uDE00 \uD834\uDD1E", "</script>",
                "{\"already\": \"json\"}", "");
        for (String m : messages) {
            String line = formatter.format(record(Level.INFO, m));
            assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, "one line for " + m + ": " + line);
            JsonNode r = JSON.readTree(line);
            assertEquals(m, r.path("message").asText(), "the message back, for " + line);
        }
    }

    @Test
    void aLoneSurrogateStillGivesValidUtf8Json() throws Exception {
        // What the handler does: the formatter's line, encoded as UTF-8 (a lone surrogate becomes '?').
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StreamHandler h = new StreamHandler(out, formatter);
        h.setEncoding("UTF-8");
        h.publish(record(Level.WARNING, "half a pair: \uD83D, then \uD83D\uDE00 whole"));
        h.flush();
        JsonNode r = JSON.readTree(out.toByteArray());
        assertEquals("half a pair: ?, then \uD83D\uDE00 whole", r.path("message").asText());
        assertTrue(new String(out.toByteArray(), StandardCharsets.UTF_8).contains("\uD83D\uDE00"), "non-BMP written as UTF-8, not escaped");
    }

    @Test
    void fixedMembersAndStructuredFields() throws Exception {
        LogRecord r = record(Level.FINE, "{0} from {1}: closing ({2}); {3}");
        r.setParameters(new Object[] {LogField.connection("tcp fd=7"),
                LogField.remote(new InetSocketAddress("::1", 8080)), LogField.reason("idle timeout"), "not a field"});
        r.setLoggerName("io.coecho.server.EchoConnection");
        r.setInstant(Instant.parse("2025-01-02T03:04:05.006789Z"));
        JsonNode j = JSON.readTree(formatter.format(r));
        assertEquals("2025-01-02T03:04:05.006Z", j.path("time").asText(), "RFC 3339, UTC, milliseconds");
        assertEquals("DEBUG", j.path("level").asText());
        assertEquals("io.coecho.server.EchoConnection", j.path("logger").asText());
        assertEquals("tcp fd=7 from [0:0:0:0:0:0:0:1]:8080: closing (idle timeout); not a field", j.path("message").asText(),
                "the text format's message: a field prints as its value");
        assertEquals("tcp fd=7", j.path("connection").asText());
        assertEquals("[0:0:0:0:0:0:0:1]:8080", j.path("remote").asText());
        assertEquals("idle timeout", j.path("reason").asText());
        assertEquals(7, j.size(), "time, level, logger, message and three fields: " + j);
    }

    @Test
    void aFieldNeverReplacesAFixedMember() throws Exception {
        LogRecord r = record(Level.INFO, "real {0}");
        r.setParameters(new Object[] {new LogField("message", "forged"), new LogField("level", "ERROR"), LogField.reason(null)});
        JsonNode j = JSON.readTree(formatter.format(r));
        assertEquals("real forged", j.path("message").asText());
        assertEquals("INFO", j.path("level").asText());
        assertTrue(j.path("reason").isNull(), "a null value is JSON null: " + j);
    }

    @Test
    void anExceptionIsOneMemberWithItsStackTrace() throws Exception {
        LogRecord r = record(Level.SEVERE, "loop failed");
        r.setThrown(new IllegalStateException("bad \"state\"\nsecond line"));
        String line = formatter.format(r);
        assertEquals(line.length() - 1, line.indexOf('\n'), "still one line");
        JsonNode j = JSON.readTree(line);
        assertEquals("ERROR", j.path("level").asText());
        String trace = j.path("exception").asText();
        assertTrue(trace.startsWith("java.lang.IllegalStateException: bad \"state\"\nsecond line"), trace);
        assertTrue(trace.contains("\tat io.coecho.cli.JsonLogFormatterTest"), trace);
    }

    @Test
    void levelsInTheWordsOfLogLevel() {
        assertEquals("ERROR", JsonLogFormatter.level(Level.SEVERE));
        assertEquals("WARN", JsonLogFormatter.level(Level.WARNING));
        assertEquals("INFO", JsonLogFormatter.level(Level.INFO));
        assertEquals("INFO", JsonLogFormatter.level(Level.CONFIG));
        assertEquals("DEBUG", JsonLogFormatter.level(Level.FINE));
        assertEquals("TRACE", JsonLogFormatter.level(Level.FINER));
        assertEquals("TRACE", JsonLogFormatter.level(Level.FINEST));
        assertFalse(JsonLogFormatter.level(Level.ALL).isEmpty());
    }

    private static LogRecord record(Level level, String message) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName("test");
        return r;
    }
}
