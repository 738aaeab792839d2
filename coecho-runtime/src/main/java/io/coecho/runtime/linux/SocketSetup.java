package io.coecho.runtime.linux;

import static io.coecho.runtime.linux.LinuxConstants.IPPROTO_IPV6;
import static io.coecho.runtime.linux.LinuxConstants.IPV6_V6ONLY;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_CLOEXEC;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_DGRAM;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_NONBLOCK;
import static io.coecho.runtime.linux.LinuxConstants.SOCK_STREAM;
import static io.coecho.runtime.linux.LinuxConstants.SOL_SOCKET;
import static io.coecho.runtime.linux.LinuxConstants.SO_OOBINLINE;
import static io.coecho.runtime.linux.LinuxConstants.SO_REUSEADDR;
import static io.coecho.runtime.linux.LinuxConstants.SO_REUSEPORT;

import io.coecho.runtime.net.ListenOptions;
import io.coecho.runtime.net.PeerAddress;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;

/**
 * Opening sockets the way every Linux transport does (epoll here, io_uring beside it): the options a
 * listener or a UDP socket needs, one-line bind errors, the bound address. Public for the io_uring transport only.
 *
 * <p>Stateless; any thread (each call takes the caller's syscall gate).
 */
public final class SocketSetup {
    private SocketSetup() {}

    /** A non-blocking, close-on-exec TCP socket bound at address and listening; its fd. */
    public static int listen(Syscalls sys, InetSocketAddress address, ListenOptions options) throws IOException {
        PeerAddress sa = PeerAddress.of(address);
        int family = family(sa);
        int fd = Syscalls.orThrow("socket", sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        try {
            // SO_REUSEADDR: a restarted server can bind while old connections sit in TIME_WAIT.
            Syscalls.orThrow("setsockopt", sys.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1));
            // SO_OOBINLINE: urgent data (MSG_OOB) stays in the stream and is echoed like any byte (RFC
            // 862; RFC 6093 says to read it inline); without it a read skips the urgent byte. Set here,
            // not per connection: accepted sockets inherit the listener's socket flags (UrgentDataIT).
            Syscalls.orThrow("setsockopt", sys.setIntOption(fd, SOL_SOCKET, SO_OOBINLINE, 1));
            if (options.reusePort()) {
                Syscalls.orThrow("setsockopt", sys.setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1));
            }
            if (family == LinuxConstants.AF_INET6 && address.getAddress().isAnyLocalAddress()) {
                sys.setIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
            }
            bindOrThrow(sys, fd, address, sa, "");
            Syscalls.orThrow("listen", sys.listen(fd, options.backlog()));
            return fd;
        } catch (IOException | RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    /**
     * A non-blocking, close-on-exec UDP socket bound at address (SO_REUSEPORT if asked; dual-stack on
     * the IPv6 wildcard); its fd.
     */
    public static int bindUdp(Syscalls sys, InetSocketAddress address, boolean reusePort) throws IOException {
        PeerAddress sa = PeerAddress.of(address);
        int family = family(sa);
        int fd = Syscalls.orThrow("socket", sys.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        try {
            // No SO_REUSEADDR: UDP has no TIME_WAIT, and on UDP it would let a second socket share
            // the port silently.
            if (reusePort) {
                Syscalls.orThrow("setsockopt", sys.setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1));
            }
            if (family == LinuxConstants.AF_INET6 && address.getAddress().isAnyLocalAddress()) {
                sys.setIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
            }
            bindOrThrow(sys, fd, address, sa, "udp ");
            return fd;
        } catch (IOException | RuntimeException e) {
            sys.close(fd);
            throw e;
        }
    }

    static void bindOrThrow(Syscalls sys, int fd, InetSocketAddress address, PeerAddress sa, String what)
            throws BindException {
        int r = sys.bind(fd, sa.sockaddr(), sa.length());
        if (r < 0) {
            throw new BindException("cannot bind " + what + format(address) + ": "
                    + (r == -Errno.EADDRINUSE ? "address already in use"
                    : r == -Errno.EACCES ? "permission denied" : Errno.name(-r)));
        }
    }

    /** The address a socket is bound to, with the real port when it was bound to port 0. */
    public static InetSocketAddress localAddress(Syscalls sys, int fd) throws NativeException {
        PeerAddress local = new PeerAddress();
        local.prepareReceive();
        Syscalls.orThrow("getsockname", sys.sockName(fd, local.sockaddr(), local.lengthCell()));
        return local.toInetSocketAddress();
    }

    /** AF_INET or AF_INET6, for address. */
    public static int family(PeerAddress address) {
        return address.ipVersion() == 4 ? LinuxConstants.AF_INET : LinuxConstants.AF_INET6;
    }

    /** host:port, with brackets around an IPv6 host. */
    public static String format(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }
}
