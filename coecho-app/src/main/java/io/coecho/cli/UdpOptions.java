package io.coecho.cli;

import io.coecho.server.Engine;
import io.coecho.server.udp.UdpConfig;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import picocli.CommandLine.Option;

/** The {@code --udp*} options of {@code coecho serve}: UDP echo and its reflection safeguards. */
final class UdpOptions {
    @Option(names = "--udp", description = "Also serve UDP echo (RFC 862) on the same address and port, with the safeguards below. Default: off.")
    boolean udp;

    @Option(names = "--udp-max-datagram", defaultValue = "65507", converter = SizeOption.class,
            description = "Largest UDP datagram answered; larger ones are dropped and counted. Default: ${DEFAULT-VALUE}.")
    long udpMaxDatagram;

    @Option(names = "--udp-deny-ports", defaultValue = "7,9,13,17,19,37",
            description = "Source ports never answered: echo-like services that would answer back (comma-separated, or 'none'). Default: ${DEFAULT-VALUE}.")
    String udpDenyPorts;

    @Option(names = "--udp-min-source-port", defaultValue = "1024",
            description = "Lowest source port answered (1: any; port 0 and our own port never are). Default: ${DEFAULT-VALUE}.")
    int udpMinSourcePort;

    @Option(names = "--udp-source-rate", defaultValue = "100",
            description = "Datagrams per second answered per source address, per loop (0: no limit). Default: ${DEFAULT-VALUE}.")
    int udpSourceRate;

    @Option(names = "--udp-source-burst", description = "Datagrams a quiet source may send at once. Default: the source rate.")
    Integer udpSourceBurst;

    @Option(names = "--udp-global-rate", defaultValue = "10000",
            description = "Datagrams per second answered by the whole server (0: no limit). Default: ${DEFAULT-VALUE}.")
    int udpGlobalRate;

    @Option(names = "--udp-global-burst", description = "Datagrams the server may answer at once. Default: the global rate.")
    Integer udpGlobalBurst;

    @Option(names = "--udp-source-table", defaultValue = "16384",
            description = "Source addresses each loop tracks for its per-source limit (fixed memory, 24 B each). Default: ${DEFAULT-VALUE}.")
    int udpSourceTable;

    @Option(names = "--udp-drop-log-interval", defaultValue = "10s", converter = DurationOption.class,
            description = "Summarise unanswered datagrams in the log at most this often. Default: ${DEFAULT-VALUE}.")
    Duration udpDropLogInterval;

    /** The UDP part of the server config; engine decides whether --udp is allowed. */
    UdpConfig config(Engine engine) {
        if (udpMaxDatagram > 65_527) {
            throw new IllegalArgumentException("--udp-max-datagram must be at most 65527 bytes, got " + udpMaxDatagram);
        }
        UdpConfig u = UdpConfig.builder().enabled(udp).maxDatagram((int) udpMaxDatagram)
                .deniedSourcePorts(ports(udpDenyPorts)).minSourcePort(udpMinSourcePort)
                .sourceRate(udpSourceRate).sourceBurst(udpSourceBurst != null ? udpSourceBurst : Math.max(udpSourceRate, 1))
                .globalRate(udpGlobalRate).globalBurst(udpGlobalBurst != null ? udpGlobalBurst : Math.max(udpGlobalRate, 1))
                .sourceTableSize(udpSourceTable).dropLogInterval(udpDropLogInterval).build();
        if (udp && engine != Engine.COROUTINES) {
            throw new IllegalArgumentException("--udp needs the coroutines engine");
        }
        return u;
    }

    private static Set<Integer> ports(String list) {
        Set<Integer> ports = new HashSet<>();
        if (list.isBlank() || list.trim().equalsIgnoreCase("none")) {
            return ports;
        }
        for (String p : list.split(",")) {
            try {
                ports.add(Integer.parseInt(p.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--udp-deny-ports: '" + p.trim() + "' is not a port number");
            }
        }
        return ports;
    }
}
