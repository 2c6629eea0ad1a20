package dev.idshift.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.failure.BadInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class MapOptionsTest {

    @Test
    void shiftfsStyleOptionString() {
        MapOptions maps = MapOptions.from(List.of(), List.of(), "uidmap=0:100000:1000,1000:1000:1,gidmap=0:200000:1000,ro");
        assertEquals("0:100000:1000,1000:1000:1", maps.uidMap().toString());
        assertEquals("0:200000:1000", maps.gidMap().toString());
        assertTrue(maps.readonly());
        assertEquals("ro,nosuid,nodev", maps.access().words(), "nosuid,nodev unless asked");
    }

    @Test
    void suidAndDevOnlyWhenAsked() {
        assertEquals("rw,nosuid,nodev", MapOptions.from(List.of("0:100000:1"), List.of(), null).access().words());
        assertEquals("rw,suid,nodev", MapOptions.from(List.of("0:100000:1"), List.of(), "suid").access().words());
        assertEquals("rw,suid,dev", MapOptions.from(List.of(), List.of(), "uidmap=0:100000:1,suid,dev").access().words());
        assertEquals("rw,nosuid,nodev", MapOptions.from(List.of("0:100000:1"), List.of(), "suid,nosuid,dev,nodev").access().words());
    }

    @Test
    void repeatedOptionsAndGidsFollowingUids() {
        MapOptions maps = MapOptions.from(List.of("0:100000:1000", "1000:1000:1"), List.of(), null);
        assertEquals(maps.uidMap(), maps.gidMap());
        assertEquals(2, maps.uidMap().extents().size());
    }

    @Test
    void refusesMissingOrUnknown() {
        assertThrows(BadInputException.class, () -> MapOptions.from(List.of(), List.of(), null));
        assertThrows(BadInputException.class, () -> MapOptions.from(List.of(), List.of(), "uidmap=0:1:2,noexec"));
    }
}
