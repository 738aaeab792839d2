package io.coecho.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * One in-process run of {@code coecho bench ARGS}: its exit code and what it printed.
 *
 * <p>Swaps System.out and System.err for the run: call from one test thread at a time.
 *
 * @param exit the exit code
 * @param out stdout
 * @param err stderr
 */
record BenchRun(int exit, String out, String err) {

    static BenchRun of(String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "bench";
        System.arraycopy(args, 0, full, 1, args.length);
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = Main.run(full);
            return new BenchRun(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** Asserts a bad-options run: exit 2, one "coecho: ..." line naming the problem, no stack trace. */
    static void assertUsage(String message, String... args) {
        BenchRun run = of(args);
        assertEquals(2, run.exit, run.err);
        String first = run.err.lines().findFirst().orElse("");
        assertTrue(first.startsWith("coecho: ") && first.contains(message), run.err);
        assertTrue(!run.err.contains("Exception") && !run.err.contains("\tat "), "no stack trace: " + run.err);
    }
}
