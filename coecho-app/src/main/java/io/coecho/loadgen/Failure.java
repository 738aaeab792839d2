package io.coecho.loadgen;

/**
 * What can go wrong with one connection of a run. A connection counts once, under the first failure
 * it met; any count above zero fails the run.
 */
public enum Failure {
    /** The echo differed from what was sent (it stops at the first wrong byte). */
    MISMATCH("mismatch"),
    /** The connection could not be opened: refused, timed out, or another error. */
    CONNECT("connect"),
    /** The connection failed while in use: reset by the peer, broken pipe. */
    RESET("reset"),
    /** The server closed the connection while the run still used it. */
    EOF("eof"),
    /** The connection was owed an echo during the measured run and got not a single byte back. */
    SILENT("silent");

    private final String label;

    Failure(String label) {
        this.label = label;
    }

    /** The name in the report and its JSON. */
    public String label() {
        return label;
    }
}
