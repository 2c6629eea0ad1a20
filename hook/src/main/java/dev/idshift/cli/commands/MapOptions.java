package dev.idshift.cli.commands;

import dev.idshift.cli.BadInputException;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import java.util.ArrayList;
import java.util.List;

/**
 * The maps of {@code idshift mount}, from {@code --uidmap}/{@code --gidmap} options or from a
 * shiftfs-style {@code -o uidmap=0:100000:1000,1000:1000:1,gidmap=...,ro} string. A bare extent
 * continues the map named before it. Without gid extents, gids follow the uid map.
 */
record MapOptions(IdMap uidMap, IdMap gidMap, boolean readonly) {

    static MapOptions from(List<String> uidSpecs, List<String> gidSpecs, String options) {
        List<String> uids = new ArrayList<>(uidSpecs);
        List<String> gids = new ArrayList<>(gidSpecs);
        boolean readonly = false;
        if (options != null) {
            List<String> current = null;
            for (String token : options.split(",")) {
                if (token.startsWith("uidmap=")) {
                    current = uids;
                    current.add(token.substring("uidmap=".length()));
                } else if (token.startsWith("gidmap=")) {
                    current = gids;
                    current.add(token.substring("gidmap=".length()));
                } else if (token.equals("ro") || token.equals("rw")) {
                    readonly = token.equals("ro");
                } else if (current != null && token.indexOf(':') > 0) {
                    current.add(token);
                } else {
                    throw new BadInputException("-o: unknown option \"" + token + "\"; expected uidmap=C:H:N, gidmap=C:H:N, ro or rw");
                }
            }
        }
        if (uids.isEmpty()) {
            throw new BadInputException("no uid map: give --uidmap DISK:HOST:COUNT (e.g. 0:100000:65536) or -o uidmap=...");
        }
        IdMap uidMap = IdMapParser.parseColonList(uids);
        IdMap gidMap = gids.isEmpty() ? uidMap : IdMapParser.parseColonList(gids);
        return new MapOptions(uidMap, gidMap, readonly);
    }
}
