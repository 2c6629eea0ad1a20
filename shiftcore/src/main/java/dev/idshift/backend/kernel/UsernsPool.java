package dev.idshift.backend.kernel;

import dev.idshift.backend.MountMaps;
import dev.idshift.sys.Fd;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The user namespaces one shift needs, one per distinct {@link MountMaps}: an overlay's layers
 * usually share one, its upper dir needs another. Each costs a helper process, so they are made
 * once per shift and closed together.
 */
public final class UsernsPool implements AutoCloseable {
    /** Set by a long-running process (the daemon): namespaces are then lent by this cache, not made per shift. */
    private static volatile UsernsCache shared;

    private final Map<MountMaps, Fd> byMaps = new HashMap<>();
    private final List<Fd> owned = new ArrayList<>();

    /** Uses {@code userns} (e.g. the container's own, when it maps exactly these ids) for {@code maps}. */
    public void offer(MountMaps maps, Fd userns) {
        byMaps.put(maps, userns);
        owned.add(userns);
    }

    /** A user namespace carrying {@code maps}, made on first use. */
    public Fd forMaps(MountMaps maps) {
        Fd userns = byMaps.get(maps);
        if (userns == null) {
            UsernsCache cache = shared;
            userns = cache != null ? cache.usernsFor(maps.uids(), maps.gids()) : UserNamespaces.createWithMaps(maps.uids(), maps.gids());
            offer(maps, userns);
        }
        return userns;
    }

    /**
     * Every pool of this process takes its namespaces from {@code cache} (each a duplicate fd it
     * closes): a helper process costs ~5 ms, and a daemon sees the same few maps again and again.
     */
    public static void shareThrough(UsernsCache cache) {
        shared = cache;
    }

    @Override
    public void close() {
        for (Fd userns : owned) {
            userns.close();
        }
        owned.clear();
        byMaps.clear();
    }
}
