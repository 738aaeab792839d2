package io.coecho.faults;

import java.time.Duration;

/**
 * The size a scenario runs at: small in the test suite, which must stay within a few minutes on two
 * busy cores, or the full size when {@code -Dcoecho.scale=full} is given (bench/faults.sh).
 * Each scenario states both sizes where it declares them, and runs the same code at either.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Scale {
    /** True with -Dcoecho.scale=full. */
    public static final boolean FULL = "full".equals(System.getProperty("coecho.scale", "suite"));

    private Scale() {}

    public static int pick(int suite, int full) {
        return FULL ? full : suite;
    }

    public static long pick(long suite, long full) {
        return FULL ? full : suite;
    }

    public static Duration pick(Duration suite, Duration full) {
        return FULL ? full : suite;
    }

    /** "suite" or "full", for the lines a scenario prints. */
    public static String name() {
        return FULL ? "full" : "suite";
    }
}
