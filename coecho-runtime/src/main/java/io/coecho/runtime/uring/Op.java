package io.coecho.runtime.uring;

import io.coecho.runtime.coro.Coroutine;

/**
 * One operation of a socket on the ring (a recv, a send, an accept, a connect), reused for each
 * submission of its kind: at most one of each is in flight per socket. The completion resumes the
 * coroutine that submitted it, as the seed's awaiters do with epoll_event.data.ptr; here the pointer
 * is user_data = slot + generation in the poller's table (see {@link UringPoller#submit}).
 *
 * <p>Loop thread only. Lifecycle per submission: idle → in flight (submitted) → done (completed,
 * result not yet taken) → idle ({@link #take}). A multishot op stays in flight through each CQE that
 * carries F_MORE (its owner takes each result at once, in {@link Owner#completed}) until the last.
 */
class Op {
    /** Told when an op completes, before its waiter resumes: releases buffers, closes the fd last. */
    interface Owner {
        void completed(Op op);
    }

    private final Owner owner;
    boolean inFlight;
    boolean done;
    int res;
    int flags;
    /** The user_data of the current submission (for a targeted cancel). */
    long userData;
    Coroutine waiter;

    Op(Owner owner) {
        this.owner = owner;
    }

    /** A CQE for the op; more (IORING_CQE_F_MORE): a multishot op that stays armed for more CQEs. */
    void complete(int res, int flags, boolean more) {
        this.inFlight = more;
        this.done = true;
        this.res = res;
        this.flags = flags;
        owner.completed(this);
        Coroutine w = waiter;
        if (w != null) {
            w.wake();
        }
    }

    /** Touches what {@link #complete} will, for UringPoller's warm pass; returns something of it. */
    int warm() {
        Coroutine w = waiter;
        int sum = w == null ? 0 : w.warm();
        return owner instanceof UringTcpStream stream ? sum + stream.warm() : sum;
    }

    /** The result of the completed submission; the op is idle again. */
    int take() {
        done = false;
        return res;
    }
}
