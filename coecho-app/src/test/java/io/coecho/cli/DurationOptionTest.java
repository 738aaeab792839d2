package io.coecho.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Durations as an operator writes them on the command line. */
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class DurationOptionTest {
    @Test
    void unitsParse() {
        assertEquals(Duration.ofMillis(500), DurationOption.parse("500ms"));
        assertEquals(Duration.ofSeconds(30), DurationOption.parse("30s"));
        assertEquals(Duration.ofMinutes(5), DurationOption.parse("5m"));
        assertEquals(Duration.ofHours(1), DurationOption.parse("1h"));
        assertEquals(Duration.ZERO, DurationOption.parse("0"));
        assertEquals(Duration.ZERO, DurationOption.parse("0s"));
        assertEquals(Duration.ofSeconds(2), DurationOption.parse(" 2s "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"5x", "abc", "", "-1s", "1.5s", "s", "5 s", "5S", "99999999999999999999s"})
    void badValuesAreRejectedWithTheValueInTheMessage(String value) {
        var e = assertThrows(CommandLine.TypeConversionException.class, () -> DurationOption.parse(value));
        assertTrue(e.getMessage().contains("'" + value + "'"), e.getMessage());
    }

    @Test
    void aBareNumberOtherThanZeroNeedsAUnit() {
        var e = assertThrows(CommandLine.TypeConversionException.class, () -> DurationOption.parse("5"));
        assertTrue(e.getMessage().contains("unit"), e.getMessage());
    }
}
