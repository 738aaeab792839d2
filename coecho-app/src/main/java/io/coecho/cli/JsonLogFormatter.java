package io.coecho.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.coecho.server.LogField;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Set;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * {@code --log-format json}: one JSON object per line,
 * {@code {"time":"2025-06-01T09:30:00.123Z","level":"DEBUG","logger":"io.coecho.server.EchoConnection",
 * "message":"tcp fd=12: closing (idle timeout)","connection":"tcp fd=12","reason":"idle timeout"}}:
 * time in RFC 3339 (UTC, milliseconds), the level in --log-level's words, the logger's full name,
 * the message as the text format shows it, then each {@link LogField} among the record's parameters
 * as a member of its own, and an exception's stack trace as {@code exception}. A field never
 * replaces one of the fixed members.
 *
 * <p>Jackson's generator writes the strings, so any message is valid JSON: quotes, backslashes and
 * control characters (newlines too) are escaped, and every other character is written as it is; the
 * handler encodes the line as UTF-8 (a lone surrogate becomes '?'). Name it in a java.util.logging
 * file for {@code --log-config}: {@code java.util.logging.ConsoleHandler.formatter =
 * io.coecho.cli.JsonLogFormatter}.
 *
 * <p>Thread-safe (the factory is; the rest is per call).
 */
public final class JsonLogFormatter extends Formatter {
    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX").withZone(ZoneOffset.UTC);
    private static final Set<String> FIXED = Set.of("time", "level", "logger", "message", "exception");

    @Override
    public String format(LogRecord r) {
        StringWriter line = new StringWriter(256);
        try (JsonGenerator json = JSON.createGenerator(line)) {
            json.writeStartObject();
            json.writeStringField("time", TIME.format(r.getInstant()));
            json.writeStringField("level", level(r.getLevel()));
            json.writeStringField("logger", r.getLoggerName());
            json.writeStringField("message", formatMessage(r));
            Object[] params = r.getParameters();
            if (params != null) {
                Set<String> written = new HashSet<>();
                for (Object p : params) {
                    if (p instanceof LogField f && !FIXED.contains(f.name()) && written.add(f.name())) {
                        json.writeStringField(f.name(), f.value() == null ? null : String.valueOf(f.value()));
                    }
                }
            }
            if (r.getThrown() != null) {
                StringWriter trace = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(trace));
                json.writeStringField("exception", trace.toString());
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return line.append('\n').toString();
    }

    /** The level in the words of --log-level. */
    static String level(Level l) {
        int v = l.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        } else if (v >= Level.WARNING.intValue()) {
            return "WARN";
        } else if (v >= Level.CONFIG.intValue()) {
            return "INFO";
        } else if (v >= Level.FINE.intValue()) {
            return "DEBUG";
        }
        return "TRACE";
    }
}
