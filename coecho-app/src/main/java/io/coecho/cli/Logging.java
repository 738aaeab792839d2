package io.coecho.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * Sets up logging for the command line. The code logs through {@code System.Logger} (no logging
 * dependency); here that lands in java.util.logging: one line per record on stderr, as text or as
 * JSON ({@code --log-format}, see {@link JsonLogFormatter}), at the level given by
 * {@code --log-level}, or as a JUL properties file given by {@code --log-config} says.
 */
final class Logging {
    private static final String FORMAT = "%1$tF %1$tT.%1$tL %4$-7s %3$s: %5$s%6$s%n";

    private Logging() {}

    /** The shapes of a log line. */
    enum Format {
        TEXT, JSON
    }

    /** Applies a level name (error, warn, info, debug, trace) and an optional config file, as text. */
    static void configure(String level, Path configFile) throws IOException {
        configure(level, configFile, Format.TEXT);
    }

    /**
     * Applies a level name (error, warn, info, debug, trace) and the line format; a config file,
     * when given, decides both instead.
     */
    static void configure(String level, Path configFile, Format format) throws IOException {
        System.setProperty("java.util.logging.SimpleFormatter.format", FORMAT);
        LogManager manager = LogManager.getLogManager();
        if (configFile != null) {
            try (InputStream in = Files.newInputStream(configFile)) {
                manager.readConfiguration(in);
            }
            return;
        }
        manager.reset();
        Logger root = Logger.getLogger("");
        Level l = parseLevel(level);
        Handler h = new ConsoleHandler();
        h.setLevel(l);
        if (format == Format.JSON) {
            h.setFormatter(new JsonLogFormatter());
            h.setEncoding("UTF-8"); // JSON is UTF-8 (RFC 8259), whatever the locale says of stderr
        } else {
            h.setFormatter(new ShortNameFormatter());
        }
        root.addHandler(h);
        root.setLevel(l);
    }

    static Level parseLevel(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "error" -> Level.SEVERE;
            case "warn", "warning" -> Level.WARNING;
            case "info" -> Level.INFO;
            case "debug" -> Level.FINE;
            case "trace" -> Level.FINEST;
            case "off" -> Level.OFF;
            default -> throw new picocli.CommandLine.TypeConversionException(
                    "'" + name + "' is not a log level (error, warn, info, debug, trace, off)");
        };
    }

    /** SimpleFormatter with the logger's simple class name instead of its full name. */
    private static final class ShortNameFormatter extends java.util.logging.SimpleFormatter {
        @Override
        public String format(java.util.logging.LogRecord r) {
            String name = r.getLoggerName();
            if (name != null) {
                r.setLoggerName(name.substring(name.lastIndexOf('.') + 1));
            }
            return super.format(r);
        }
    }
}
