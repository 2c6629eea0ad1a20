package dev.idshift.backend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** How many queues the kernel wants: its num_possible_cpus(), from /sys/devices/system/cpu/possible. */
class FuseRingsTest {
    @Test
    void countsTheCpusTheListNames() {
        assertEquals(1, FuseRings.possibleCpus("0"));
        assertEquals(2, FuseRings.possibleCpus("0-1"));
        assertEquals(8, FuseRings.possibleCpus("0-3,8-11"));
        assertEquals(5, FuseRings.possibleCpus("0-3,7"));
    }

    @Test
    void refusesWhatIsNotACpuList() {
        assertThrows(NumberFormatException.class, () -> FuseRings.possibleCpus("all"));
        assertThrows(IllegalArgumentException.class, () -> FuseRings.possibleCpus("3-1"));
    }
}
