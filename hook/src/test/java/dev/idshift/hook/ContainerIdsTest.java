package dev.idshift.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.config.oci.IdMapping;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.idmap.IdMap;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContainerIdsTest {
    @Test
    void readsOciMappings() {
        IdMap map = ContainerIds.fromOci(List.of(new IdMapping(0, 100000, 65536)));
        assertEquals(IdMap.shift(100000, 65536), map);
    }

    @Test
    void takesConfigMappingsWithoutAProcess() {
        ContainerIds ids = ContainerIds.of(0, List.of(new IdMapping(0, 100000, 65536)), List.of(new IdMapping(0, 200000, 65536)));
        assertEquals(IdMap.shift(100000, 65536), ids.uids());
        assertEquals(IdMap.shift(200000, 65536), ids.gids());
    }

    @Test
    void mapsThatCannotBeReadAreAKernelRefusalNamingThePidWithTheCauseKept() {
        long gone = 99_999_999L; // above any pid_max (4194304)
        KernelRefusedException refused = assertThrows(KernelRefusedException.class, () -> ContainerIds.of(gone, List.of(), List.of()));
        assertTrue(refused.getMessage().startsWith("cannot read the id maps of container process " + gone + ": "), refused.getMessage());
        assertInstanceOf(IOException.class, refused.getCause());
    }
}
