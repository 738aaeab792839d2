package io.coecho.runtime.linux;

import io.coecho.runtime.net.SocketFailure.Category;

/**
 * The errno values this runtime tells apart, their names for log lines, and the category of failure
 * each one is to the caller.
 *
 * <p>Thread-safe (immutable). The name table is filled when the class loads, so that naming an
 * error on the EMFILE path loads and allocates nothing.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int EBUSY = 16;
    public static final int EPIPE = 32;
    public static final int ENOSYS = 38;
    public static final int ETIME = 62;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int EAFNOSUPPORT = 97;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ENETUNREACH = 101;
    public static final int ECONNABORTED = 103;
    public static final int ECONNRESET = 104;
    public static final int ENOBUFS = 105;
    public static final int ENOTCONN = 107;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int EHOSTUNREACH = 113;
    public static final int EALREADY = 114;
    public static final int EINPROGRESS = 115;
    public static final int ECANCELED = 125;

    private static final String[] NAMES = new String[134];

    static {
        name(EPERM, "EPERM");
        name(EINTR, "EINTR");
        name(EBADF, "EBADF");
        name(EAGAIN, "EAGAIN");
        name(ENOMEM, "ENOMEM");
        name(EACCES, "EACCES");
        name(EINVAL, "EINVAL");
        name(ENFILE, "ENFILE");
        name(EMFILE, "EMFILE");
        name(EPIPE, "EPIPE");
        name(EBUSY, "EBUSY");
        name(ENOSYS, "ENOSYS");
        name(ETIME, "ETIME");
        name(ECANCELED, "ECANCELED");
        name(ENOTSOCK, "ENOTSOCK");
        name(EMSGSIZE, "EMSGSIZE");
        name(EAFNOSUPPORT, "EAFNOSUPPORT");
        name(EADDRINUSE, "EADDRINUSE");
        name(EADDRNOTAVAIL, "EADDRNOTAVAIL");
        name(ENETUNREACH, "ENETUNREACH");
        name(ECONNABORTED, "ECONNABORTED");
        name(ECONNRESET, "ECONNRESET");
        name(ENOBUFS, "ENOBUFS");
        name(ENOTCONN, "ENOTCONN");
        name(ETIMEDOUT, "ETIMEDOUT");
        name(ECONNREFUSED, "ECONNREFUSED");
        name(EHOSTUNREACH, "EHOSTUNREACH");
        name(EALREADY, "EALREADY");
        name(EINPROGRESS, "EINPROGRESS");
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i] == null) {
                NAMES[i] = "errno " + i;
            }
        }
    }

    private Errno() {}

    private static void name(int errno, String name) {
        NAMES[errno] = name;
    }

    /** The symbolic name ("ECONNRESET"), or "errno N" for one this table does not know. */
    public static String name(int errno) {
        return errno >= 0 && errno < NAMES.length ? NAMES[errno] : "errno " + errno;
    }

    /** What errno means to the caller: the peer went away, a shortage to wait out, a bad address. */
    public static Category category(int errno) {
        if (errno == ECONNRESET || errno == EPIPE || errno == ETIMEDOUT || errno == ENOTCONN
                || errno == ECONNABORTED) {
            return Category.PEER_GONE; // expected: logged quietly
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            return Category.RESOURCE_SHORTAGE;
        }
        if (errno == EADDRINUSE || errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT || errno == ENETUNREACH
                || errno == EHOSTUNREACH || errno == ECONNREFUSED) {
            return Category.ADDRESS;
        }
        return Category.OTHER;
    }
}
