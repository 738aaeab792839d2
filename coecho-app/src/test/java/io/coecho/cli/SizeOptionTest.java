package io.coecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Sizes as an operator writes them: binary units. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class SizeOptionTest {
    @Test
    void unitsParse() {
        assertEquals(512, SizeOption.parse("512"));
        assertEquals(512, SizeOption.parse("512B"));
        assertEquals(4096, SizeOption.parse("4KiB"));
        assertEquals(4096, SizeOption.parse("4K"));
        assertEquals(1 << 20, SizeOption.parse("1MiB"));
        assertEquals(1 << 20, SizeOption.parse("1MB")); // binary, as the help says
        assertEquals(1L << 30, SizeOption.parse("1GiB"));
        assertEquals(0, SizeOption.parse("0"));
        assertEquals(16 * 1024, SizeOption.parse(" 16 KiB "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "", "-1", "1.5MiB", "1TiB", "KiB", "4kib"})
    void badValuesAreRejectedWithTheValueInTheMessage(String value) {
        var e = assertThrows(CommandLine.TypeConversionException.class, () -> SizeOption.parse(value));
        assertTrue(e.getMessage().contains("'" + value + "'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775807GiB", "99999999999999999999", "8589934592GiB"})
    void tooLargeIsSaidSo(String value) {
        var e = assertThrows(CommandLine.TypeConversionException.class, () -> SizeOption.parse(value));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }
}
