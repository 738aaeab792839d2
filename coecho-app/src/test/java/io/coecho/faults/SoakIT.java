package io.coecho.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.coecho.ServerTarget;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The soak ({@link Soak}) with the same checks as bench/soak.sh, short: 25 s against the default
 * target (the coroutine engine on epoll), so the suite catches a gross leak or any echo error.
 * bench/soak.sh runs this same test with -Dcoecho.soak.duration (10m, 1h...), -Dcoecho.soak.target
 * and -Dcoecho.soak.out, JUnit's timeout off.
 */
class SoakIT {
    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aMixOfFaultsLeaksNothingAndLosesNoByte() throws Exception {
        Duration duration = parse(System.getProperty("coecho.soak.duration", "25s"));
        ServerTarget target = ServerTarget.valueOf(System.getProperty("coecho.soak.target", "epoll")
                .toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
        Path out = Path.of(System.getProperty("coecho.soak.out", "target/soak"));
        Soak.Result r = Soak.run(Soak.Config.of(target, duration, out));
        System.out.println("soak: " + r.json());
        assertTrue(r.ok(), "soak failed: " + r.problems() + "\n" + r.json());
    }

    /** "40s", "10m", "1h". */
    static Duration parse(String text) {
        long n = Long.parseLong(text.substring(0, text.length() - 1));
        return switch (text.charAt(text.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> throw new IllegalArgumentException("a duration such as 40s, 10m or 1h: " + text);
        };
    }
}
