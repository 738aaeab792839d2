package io.coecho.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class PayloadTest {
    /** The stream bytes [offset, offset+len), assembled from slices as the writer sends them. */
    private static MemorySegment stream(Payload p, long offset, long len) {
        MemorySegment out = Arena.ofAuto().allocate(len);
        long done = 0;
        while (done < len) {
            MemorySegment s = p.slice(offset + done, len - done);
            MemorySegment.copy(s, 0, out, done, s.byteSize());
            done += s.byteSize();
        }
        return out;
    }

    @Test
    void whatIsSentVerifiesAcrossPatternWraps() {
        Payload p = Payload.forConnection(7);
        long len = 3L * Payload.PERIOD + 123;
        MemorySegment sent = stream(p, 5, len);
        assertEquals(-1, p.mismatch(sent, len, 5));
        // Read back in odd-sized pieces, as TCP may deliver it.
        long off = 0;
        for (long piece : new long[] {1, 999, Payload.PERIOD + 1, 40_000}) {
            assertEquals(-1, p.mismatch(sent.asSlice(off, piece), piece, 5 + off));
            off += piece;
        }
    }

    @Test
    void aFlippedByteIsFoundAtItsOffset() {
        Payload p = Payload.forConnection(3);
        MemorySegment got = stream(p, 0, 200_000);
        long at = 150_001;
        got.set(ValueLayout.JAVA_BYTE, at, (byte) (got.get(ValueLayout.JAVA_BYTE, at) ^ 1));
        assertEquals(at, p.mismatch(got, 200_000, 0));
    }

    @Test
    void bytesAtTheWrongOffsetOrFromAnotherConnectionDoNotVerify() {
        Payload a = Payload.forConnection(0);
        Payload b = Payload.forConnection(1);
        MemorySegment fromA = stream(a, 0, 64);
        assertTrue(a.mismatch(fromA, 64, 1) >= 0, "a stream shifted by one byte must not verify");
        assertTrue(b.mismatch(fromA, 64, 0) >= 0, "another connection's bytes must not verify");
        assertFalse(a.mismatch(fromA, 64, 0) >= 0);
    }
}
