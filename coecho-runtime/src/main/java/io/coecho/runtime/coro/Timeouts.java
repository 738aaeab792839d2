package io.coecho.runtime.coro;

import io.coecho.runtime.timer.Timer;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;

/**
 * Deadlines for any await: {@code withTimeout(d, () -> stream.read(buf))} suspends like the body
 * does, and throws {@link TimeoutException} if the body has not finished after d.
 *
 * <p>Stateless. Runs in a coroutine; the timer lives on the coroutine's loop and is cancelled on the
 * way out.
 */
public final class Timeouts {
    private Timeouts() {}

    /** Runs body; if it is still suspended after timeout, interrupts it and throws TimeoutException. */
    public static <T> T withTimeout(Duration timeout, Callable<T> body) throws Exception {
        Coroutine self = Coroutine.require();
        Expired expired = new Expired();
        Timer timer = self.loop().schedule(timeout, () -> self.interrupt(expired));
        try {
            return body.call();
        } catch (Expired e) {
            if (e == expired) {
                throw new TimeoutException("no result after " + timeout.toMillis() + " ms");
            }
            throw e;
        } finally {
            timer.cancel();
        }
    }

    /** The signal thrown into the body at the deadline; no stack trace, it is control flow. */
    private static final class Expired extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Expired() {
            super("deadline passed", null, false, false);
        }
    }
}
