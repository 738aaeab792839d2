package io.coecho.loadgen;

/**
 * What happened to the datagrams of a UDP run, counted over the measured window. Every datagram
 * sent in the window ends either received or lost, so {@code sent = received + lost} once the run
 * is over; the other counts are echoes that arrived during the window or after it.
 */
public enum UdpCount {
    /** Datagrams sent in the measured window. */
    SENT("sent"),
    /** Of those, echoed right and within the loss timeout. */
    RECEIVED("received"),
    /** Of those, not echoed within the loss timeout (or by the end of the run). */
    LOST("lost"),
    /** Second and later echoes of a datagram already answered. */
    DUPLICATES("duplicates"),
    /** Echoes of datagrams already counted lost, or too old to match (their slot was reused). */
    LATE("late"),
    /** Datagrams from any address other than the server's. */
    UNEXPECTED("unexpected");

    private final String label;

    UdpCount(String label) {
        this.label = label;
    }

    /** The name in the report and its JSON. */
    public String label() {
        return label;
    }
}
