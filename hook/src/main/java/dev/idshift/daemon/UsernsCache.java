package dev.idshift.daemon;

import dev.idshift.idmap.IdMap;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.UserNamespaces;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * User namespaces carrying mount maps, kept by map: making one costs a helper process (~5 ms), and
 * a daemon sees the same few maps again and again. At most {@code capacity}; the least recently
 * used is closed first.
 */
final class UsernsCache {
    private final int capacity;
    private final Map<String, Fd> byMaps = new LinkedHashMap<>(16, 0.75f, true);

    UsernsCache(int capacity) {
        this.capacity = capacity;
    }

    /** The fd stays owned by the cache: use it while holding no assumption it outlives the next call. */
    synchronized int usernsFor(IdMap uidMap, IdMap gidMap) {
        String key = uidMap + "|" + gidMap;
        Fd cached = byMaps.get(key);
        if (cached == null) {
            cached = UserNamespaces.createWithMaps(uidMap, gidMap);
            byMaps.put(key, cached);
            if (byMaps.size() > capacity) {
                Iterator<Map.Entry<String, Fd>> eldest = byMaps.entrySet().iterator();
                eldest.next().getValue().close();
                eldest.remove();
            }
        }
        return cached.get();
    }

    synchronized void closeAll() {
        for (Fd fd : byMaps.values()) {
            fd.close();
        }
        byMaps.clear();
    }
}
