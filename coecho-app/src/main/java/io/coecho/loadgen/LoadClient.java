package io.coecho.loadgen;

/**
 * One client of a load run as its {@link ClientLoop} drives it: a TCP connection or a UDP socket.
 * Opened during the connect phase, then started, told when the measured window opens and when the
 * run is over (stop sending, wait for what is owed), and closed at the latest at the grace deadline.
 *
 * <p>Loop thread only.
 */
sealed interface LoadClient permits ClientConnection, UdpClientSocket {
    /** True once connected (TCP) or bound (UDP), so traffic may start. */
    boolean opened();

    /** Starts the client's coroutines. */
    void start();

    /** The measured window opened. */
    void windowOpened();

    /** The run is over: no new messages; closes once nothing is owed. */
    void stop();

    /** Closes the client (idempotent); its coroutines wake and end. */
    void close();
}
