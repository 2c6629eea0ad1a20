package dev.idshift.cli.commands;

import dev.idshift.failure.BadInputException;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.backend.MountAccess;
import java.util.ArrayList;
import java.util.List;

/**
 * The maps of {@code idshift mount}, from {@code --uidmap}/{@code --gidmap} options or from a
 * shiftfs-style {@code -o uidmap=0:100000:1000,1000:1000:1,gidmap=...,ro,suid} string. A bare extent
 * continues the map named before it. Without gid extents, gids follow the uid map. The mount is
 * nosuid,nodev unless {@code suid} / {@code dev} are given (see MountAccess).
 */
record MapOptions(IdMap uidMap, IdMap gidMap, MountAccess access) {

    boolean readonly() {
        return access.readonly();
    }

    static MapOptions from(List<String> uidSpecs, List<String> gidSpecs, String options) {
        List<String> uids = new ArrayList<>(uidSpecs);
        List<String> gids = new ArrayList<>(gidSpecs);
        MountAccess access = MountAccess.RESTRICTED;
        if (options != null) {
            List<String> current = null;
            for (String token : options.split(",")) {
                if (token.startsWith("uidmap=")) {
                    current = uids;
                    current.add(token.substring("uidmap=".length()));
                } else if (token.startsWith("gidmap=")) {
                    current = gids;
                    current.add(token.substring("gidmap=".length()));
                } else if (isAccessFlag(token)) {
                    access = MountAccess.parse(access.words() + "," + token);
                } else if (current != null && token.indexOf(':') > 0) {
                    current.add(token);
                } else {
                    throw new BadInputException("-o: unknown option \"" + token + "\"; expected uidmap=C:H:N, gidmap=C:H:N, ro, rw, suid, nosuid, dev or nodev");
                }
            }
        }
        if (uids.isEmpty()) {
            throw new BadInputException("no uid map: give --uidmap DISK:HOST:COUNT (e.g. 0:100000:65536) or -o uidmap=...");
        }
        IdMap uidMap = IdMapParser.parseColonList(uids);
        IdMap gidMap = gids.isEmpty() ? uidMap : IdMapParser.parseColonList(gids);
        return new MapOptions(uidMap, gidMap, access);
    }

    private static boolean isAccessFlag(String token) {
        switch (token) {
            case "ro": case "rw": case "suid": case "nosuid": case "dev": case "nodev":
                return true;
            default:
                return false;
        }
    }
}
