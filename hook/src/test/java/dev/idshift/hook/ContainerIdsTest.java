package dev.idshift.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.idshift.config.oci.IdMapping;
import dev.idshift.idmap.IdMap;
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
}
