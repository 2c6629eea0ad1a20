package dev.idshift.hook;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonInputException;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapException;
import dev.idshift.idmap.IdMapParser;
import java.util.Optional;

/**
 * The on-disk maps the annotations give (container id -> on-disk id), if any: dev.idshift.fs-uidmap
 * and fs-gidmap each win over the shared dev.idshift.fsidmap. A map the kernel would refuse is an
 * error naming its annotation.
 */
record ExplicitLayout(Optional<IdMap> uids, Optional<IdMap> gids) {

    static ExplicitLayout from(IdshiftAnnotations annotations, String source) {
        Optional<IdMap> shared = parse(source, IdshiftAnnotations.FSIDMAP, annotations.fsIdMap());
        Optional<IdMap> uids = parse(source, IdshiftAnnotations.FS_UIDMAP, annotations.fsUidMap());
        Optional<IdMap> gids = parse(source, IdshiftAnnotations.FS_GIDMAP, annotations.fsGidMap());
        return new ExplicitLayout(uids.isPresent() ? uids : shared, gids.isPresent() ? gids : shared);
    }

    private static Optional<IdMap> parse(String source, String key, Optional<String> text) {
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(IdMapParser.parseColonList(text.get()));
        } catch (IdMapException e) {
            JsonInputException named = new JsonInputException(source, "$.annotations[\"" + key + "\"]", "\"" + text.get() + "\": "
                    + e.getMessage());
            named.initCause(e);
            throw named;
        }
    }
}
