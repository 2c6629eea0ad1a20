package dev.idshift.layout;

import dev.idshift.idmap.IdMap;

/**
 * How a tree's files are owned on disk, as a map from container ids to on-disk ids, with the
 * reason we believe it (shown by {@code idshift maps}).
 */
public record OnDiskLayout(Kind kind, IdMap containerToDisk, String reason) {

    public enum Kind {
        /** Stored as the container sees it (an ordinary image: root dir owned by 0). */
        UNSHIFTED,
        /** Stored at a static offset B: container id c is on-disk id B+c. */
        OFFSET,
        /** Stored at the container's own host ids: nothing to shift. */
        ALREADY_SHIFTED,
        /** Given by an annotation or option. */
        EXPLICIT
    }
}
