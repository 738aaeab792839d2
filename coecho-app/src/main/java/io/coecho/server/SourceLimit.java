package io.coecho.server;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code --max-connections-per-source}: the connections each source address has open, across every
 * loop or thread of a server, and the admission check against the limit (nginx's
 * {@code limit_conn}, HAProxy's {@code src_conn_cur}). The source is the client's address from the
 * PROXY header under {@code --proxy-protocol}, else the peer's.
 *
 * <p>Why one map shared by all loops, when every other counter is a plain per-loop field: a limit
 * per loop would admit the limit once per loop, and SO_REUSEPORT spreads one source's connections
 * over all of them (the kernel hashes the whole 4-tuple, so the source port alone moves a
 * connection to another loop). Summing per-loop counts at admission would read other loops'
 * fields racily and could admit several at once past the limit. What the map costs is paid twice
 * per connection, at admission and at close, never per read or write: a ConcurrentHashMap compute
 * locks one bin, so loops contend only when the same bin is hit at the same moment, and the echo
 * path touches none of it. Only sources with a connection open are kept, so the map is bounded by
 * the open connections.
 *
 * <p>Thread-safe.
 */
public final class SourceLimit {
    private final int max;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    private SourceLimit(int max) {
        this.max = max;
    }

    /** The limit, or null for none (max 0). */
    public static SourceLimit of(int max) {
        return max > 0 ? new SourceLimit(max) : null;
    }

    public int max() {
        return max;
    }

    /**
     * Counts a connection from source if it has fewer than the limit open; false (nothing counted)
     * if it is at the limit. Returns the key to {@link #release} with, or null when refused.
     */
    public InetAddress tryAcquire(InetAddress source) {
        InetAddress key = key(source);
        boolean[] admitted = new boolean[1]; // once per connection, at admission only
        open.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= max) {
                return n;
            }
            admitted[0] = true;
            return now + 1;
        });
        return admitted[0] ? key : null;
    }

    /** Gives back a connection {@link #tryAcquire} admitted; forgets a source with none left. */
    public void release(InetAddress key) {
        open.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }

    /** Connections source has open now (for tests and logs). */
    public int openFrom(InetAddress source) {
        return open.getOrDefault(key(source), 0);
    }

    /**
     * The address as a key: an IPv4-mapped IPv6 address (an IPv4 client of a dual-stack socket) as
     * the IPv4 address it is, so that one client has one key however it is seen. (InetAddress
     * equality is the address bytes alone: neither a host name nor an IPv6 scope tells keys apart.)
     */
    static InetAddress key(InetAddress a) {
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            if (isMapped(b)) {
                try {
                    return InetAddress.getByAddress(Arrays.copyOfRange(b, 12, 16));
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e); // 4 bytes: cannot happen
                }
            }
        }
        return a;
    }

    private static boolean isMapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
    }
}
