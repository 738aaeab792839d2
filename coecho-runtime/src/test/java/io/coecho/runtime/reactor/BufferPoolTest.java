package io.coecho.runtime.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pool lends buffers, keeps a few for reuse, and frees the rest at once, not whenever a garbage
 * collection happens to run: after a burst of slow readers, the memory goes back.
 */
class BufferPoolTest {

    @Test
    void aReturnedBufferIsReusedWhileThePoolHasRoom() {
        BufferPool pool = new BufferPool(1024, 2);
        MemorySegment a = pool.acquire();
        pool.release(a);
        assertSame(a, pool.acquire(), "the free buffer is lent again");
        assertEquals(1, pool.lent());
        assertEquals(1, pool.allocated());
    }

    @Test
    void buffersBeyondTheIdleLimitAreFreedWhenReturned() {
        BufferPool pool = new BufferPool(1024, 2);
        List<MemorySegment> burst = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            burst.add(pool.acquire());
        }
        assertEquals(10, pool.allocated());
        for (MemorySegment s : burst) {
            pool.release(s);
        }
        assertEquals(0, pool.lent());
        assertEquals(2, pool.allocated(), "only the idle limit stays allocated");
        long freed = burst.stream().filter(s -> !s.scope().isAlive()).count();
        assertEquals(8, freed, "the rest is freed now, not at some later collection");
    }

    @Test
    void closeFreesEveryBufferLentOrNot() {
        BufferPool pool = new BufferPool(1024, 4);
        MemorySegment lent = pool.acquire();
        MemorySegment idle = pool.acquire();
        pool.release(idle);
        pool.close();
        assertFalse(lent.scope().isAlive());
        assertFalse(idle.scope().isAlive());
        assertEquals(0, pool.allocated());
        assertTrue(pool.acquire().scope().isAlive(), "a pool still works after close (a new buffer)");
    }
}
