package dev.idshift.sys.processes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The credentials read from /proc/PID/status, and what is left out when a line is not as the kernel writes it. */
class ProcessStatusTest {
    private static final String STATUS = """
            Name:\tsh
            Umask:\t0022
            State:\tS (sleeping)
            Uid:\t1000\t0\t0\t4294967294
            Gid:\t100000\t100001\t100002\t100003
            Groups:\t27 100
            CapInh:\t0000000000000000
            CapPrm:\t000001ffffffffff
            CapEff:\t0000000000200000
            """;

    @Test
    void readsTheIdsInTheKernelsOrderAndTheEffectiveCapabilities() {
        ProcessStatus status = ProcessStatus.parse(STATUS);
        assertEquals(new ProcessStatus.Ids(1000, 0, 0, 4294967294L), status.uids());
        assertEquals(new ProcessStatus.Ids(100000, 100001, 100002, 100003), status.gids());
        assertEquals(OptionalLong.of(1L << 21), status.effectiveCapabilities(), "CAP_SYS_ADMIN alone");
        assertTrue(new ProcessStatus.Ids(0, 0, 0, 0).all(0));
        assertTrue(!status.uids().all(0));
    }

    @Test
    void linesNotAsTheKernelWritesThemAreLeftOut() {
        ProcessStatus status = ProcessStatus.parse("Name:\tx\nUid:\t0\t0\t0\nGid:\t0\t0\t0\t-1\nCapEff:\tzz\n");
        assertNull(status.uids(), "three ids");
        assertNull(status.gids(), "not an unsigned id");
        assertTrue(status.effectiveCapabilities().isEmpty());
        ProcessStatus none = ProcessStatus.parse("Name:\tUid: 0 0 0 0\n");
        assertNull(none.uids(), "a field is a line's start, never inside the name");
        assertTrue(none.effectiveCapabilities().isEmpty());
    }

    @Test
    void ourOwnStatus() throws Exception {
        ProcessStatus status = ProcessStatus.of(ProcessHandle.current().pid());
        assertNotNull(status.uids());
        assertNotNull(status.gids());
        assertTrue(status.effectiveCapabilities().isPresent());
    }
}
