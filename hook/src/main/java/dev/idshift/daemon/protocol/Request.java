package dev.idshift.daemon.protocol;

import dev.idshift.idmap.IdMap;
import java.util.Optional;

/** What a client may ask the daemon: one record per operation. {@link Codec} puts them on the wire. */
public sealed interface Request permits Request.Status, Request.Marks, Request.Mount, Request.Shift {

    /** Whether the daemon is up, and how many marks the caller may use. Answered by {@link Response.Status}. */
    record Status() implements Request {
    }

    /** The marks the caller may use, and no others. Answered by {@link Response.Marks}. */
    record Marks() implements Request {
    }

    /**
     * {@code source} (beneath a mark the caller may use) shifted by maps the caller gives in host
     * ids. Answered by {@link Response.Shifted}.
     *
     * @param gidMap on the wire it may be left out: then it is {@code uidMap}
     */
    record Mount(String source, IdMap uidMap, IdMap gidMap, boolean readonly) implements Request {
    }

    /**
     * A container's rootfs, planned by the daemon: the caller (a hook in a nested runtime) sends the
     * container's maps as it sees them, and optionally the on-disk layout (container id to on-disk
     * id); the daemon translates them through the caller's own maps and detects the layout from the
     * tree's real owner. Answered by {@link Response.Shifted} or {@link Response.Unchanged}.
     */
    record Shift(String source, IdMap containerUidMap, IdMap containerGidMap, Optional<IdMap> fsUidMap,
                 Optional<IdMap> fsGidMap, boolean readonly) implements Request {
    }
}
