package io.coecho.loadgen;

import java.io.Console;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The live line a person watches during a run, rewritten in place once a second: phase, elapsed
 * time, messages per second over the last second, open connections, failures so far. Only on a
 * terminal: piped output (and --json) gets the final report alone.
 *
 * <p>Used by the generator's coordinating thread only.
 */
public final class ProgressLine {
    private final PrintStream out;
    private long lastMessages;
    private long lastNanos;
    private boolean shown;

    ProgressLine(PrintStream out) {
        this.out = out;
    }

    /** A progress line on stdout if stdout is a terminal, else null. */
    public static ProgressLine forTerminal() {
        Console c = System.console();
        // Since JDK 22 System.console() exists even when redirected; isTerminal() tells.
        return c != null && c.isTerminal() ? new ProgressLine(System.out) : null;
    }

    void update(String phase, long nowNanos, long sinceNanos, long messages, int open, int total, long failures) {
        long from = lastNanos == 0 || lastNanos - sinceNanos < 0 ? sinceNanos : lastNanos;
        double perSecond = (messages - lastMessages) * 1e9 / Math.max(1, nowNanos - from);
        lastMessages = messages;
        lastNanos = nowNanos;
        out.print(String.format(Locale.ROOT, "\r  %-10s %5.1f s  %,12.0f msg/s  %,d/%,d connections  %,d errors\033[K",
                phase, (nowNanos - sinceNanos) / 1e9, perSecond, open, total, failures));
        out.flush();
        shown = true;
    }

    /** Clears the line, so the final report starts on a clean one. */
    void clear() {
        if (shown) {
            out.print("\r\033[K");
            out.flush();
        }
    }
}
