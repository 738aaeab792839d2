package io.coecho.server.udp;

/** Why a UDP datagram got no answer; counted per reason and summarised in the log. */
public enum DropReason {
    /** From a port on the deny list (echo, chargen, ...) or from our own port: an echo loop. */
    REFLECTOR_PORT("from a reflector port"),
    /** From a port below the minimum (a service, not a client), or from port 0. */
    PRIVILEGED_PORT("from a privileged port"),
    /** From a broadcast, multicast or unspecified address: spoofed, or an amplifier. */
    BAD_ADDRESS("from a broadcast/multicast/unspecified address"),
    /** Its source is over its own rate limit. */
    SOURCE_RATE("over the per-source rate"),
    /** The server is over its global rate limit. */
    GLOBAL_RATE("over the global rate"),
    /** Larger than the largest datagram answered. */
    OVERSIZE("oversize"),
    /** The answer could not be sent (no route, firewall, buffer shortage). */
    SEND_FAILED("answer not sent");

    private final String label;

    DropReason(String label) {
        this.label = label;
    }

    /** How the drop summary names it. */
    public String label() {
        return label;
    }
}
