package io.coecho.runtime;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Collects what coecho logs (System.Logger lands in java.util.logging) at or above a level while a
 * test runs, so a test can assert that an expected condition was not logged loudly. Any thread.
 */
public final class LogCapture extends Handler implements AutoCloseable {
    private static final SimpleFormatter FORMAT = new SimpleFormatter();

    private final Logger logger;
    private final Level loggerLevel;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    private LogCapture(Logger logger, Level level) {
        this.logger = logger; // held strongly: java.util.logging keeps loggers only weakly
        this.loggerLevel = logger.getLevel();
        setLevel(level);
        // A test before this one may have set a higher level (an in-process CLI run configures the
        // root logger): records below it would never be made, let alone reach this handler.
        if (!logger.isLoggable(level)) {
            logger.setLevel(level);
        }
    }

    /** Starts collecting records of the io.coecho loggers at level or above. */
    public static LogCapture start(Level level) {
        LogCapture c = new LogCapture(Logger.getLogger("io.coecho"), level);
        c.logger.addHandler(c);
        return c;
    }

    /** What was logged, one line per record: level, logger, message and any exception. */
    public List<String> lines() {
        return records.stream()
                .map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + FORMAT.formatMessage(r)
                        + (r.getThrown() != null ? " [" + r.getThrown() + "]" : ""))
                .toList();
    }

    @Override
    public void publish(LogRecord record) {
        if (isLoggable(record)) {
            records.add(record);
        }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        logger.removeHandler(this);
        logger.setLevel(loggerLevel);
    }
}
