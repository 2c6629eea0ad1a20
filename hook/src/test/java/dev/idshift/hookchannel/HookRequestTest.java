package dev.idshift.hookchannel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The request line is all a launcher sends through the shared FIFO: anything but "PID STAGE" is dropped. */
class HookRequestTest {
    private static final Path DIR = Path.of("/run/idshift/hookd");

    @Test
    void acceptsAPidAndAKnownStage() {
        assertEquals(1234, HookRequest.parse("1234 createRuntime", DIR).pid());
        assertEquals(7, HookRequest.parse("7 -", DIR).pid());
        assertEquals(7, HookRequest.parse("7 precreate", DIR).pid());
    }

    @Test
    void refusesEverythingElse() {
        for (String line : new String[] {"", "1234", "1234 ", "x createRuntime", "-1 poststop", "1234 poststop extra",
            "1234 ../../etc", "12345678901 poststop", " 1234 poststop", "1234 Poststop"}) {
            assertNull(HookRequest.parse(line, DIR), line);
        }
    }
}
