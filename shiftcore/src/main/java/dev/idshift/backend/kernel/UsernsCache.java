package dev.idshift.backend.kernel;

import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Fd;
import dev.idshift.sys.files.FileSyscalls;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * User namespaces carrying mount maps, kept by map: making one costs a helper process (~5 ms), and
 * a daemon sees the same few maps again and again (its socket requests, and the precreate stages of
 * its hook channel, through UsernsPool.shareThrough). At most {@code capacity}; the least recently
 * used is closed first.
 *
 * <p>Lends, never borrows out: a caller gets its own duplicate of the cached fd, taken under the
 * lock. A raw number handed out would be closed by a concurrent eviction, and the number could be
 * reused (another caller's namespace) before the caller's mount_setattr.
 */
public final class UsernsCache {
    private final int capacity;
    private final Map<String, Fd> byMaps = new LinkedHashMap<>(16, 0.75f, true);
    private final BiFunction<IdMap, IdMap, Fd> create;

    public UsernsCache(int capacity) {
        this(capacity, new BiFunction<IdMap, IdMap, Fd>() {
            @Override
            public Fd apply(IdMap uidMap, IdMap gidMap) {
                return UserNamespaces.createWithMaps(uidMap, gidMap);
            }
        });
    }

    /** @param create makes a user namespace with these maps (tests pass any fd) */
    public UsernsCache(int capacity, BiFunction<IdMap, IdMap, Fd> create) {
        this.capacity = capacity;
        this.create = create;
    }

    /** A user namespace with these maps, as a new fd the caller owns and closes. */
    public synchronized Fd usernsFor(IdMap uidMap, IdMap gidMap) {
        String key = uidMap + "|" + gidMap;
        Fd cached = byMaps.get(key);
        if (cached == null) {
            cached = create.apply(uidMap, gidMap);
            byMaps.put(key, cached);
            if (byMaps.size() > capacity) {
                Iterator<Map.Entry<String, Fd>> eldest = byMaps.entrySet().iterator();
                eldest.next().getValue().close();
                eldest.remove();
            }
        }
        return new Fd(FileSyscalls.get().duplicate(cached.get(), "the user namespace for " + key));
    }

    public synchronized void closeAll() {
        for (Fd fd : byMaps.values()) {
            fd.close();
        }
        byMaps.clear();
    }
}
