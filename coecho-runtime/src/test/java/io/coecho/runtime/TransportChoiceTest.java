package io.coecho.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TransportChoiceTest {

    @Test
    void parsesTheNamesUsersWrite() {
        for (TransportChoice t : TransportChoice.values()) {
            assertEquals(t, TransportChoice.parse(t.label()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TransportChoice.parse("EPOLL"));
        assertEquals("transport must be epoll, io_uring, nio or auto, got EPOLL", e.getMessage());
    }

    @Test
    void opensTheNamedTransport() {
        assertEquals("nio", TransportChoice.NIO.open().name());
        assertEquals("epoll", TransportChoice.EPOLL.open().name()); // the suite runs on Linux
        assertEquals("io_uring", TransportChoice.IO_URING.open().name()); // io_uring is enabled here
        assertEquals("epoll", TransportChoice.AUTO.open().name()); // until io_uring is measured faster
    }
}
