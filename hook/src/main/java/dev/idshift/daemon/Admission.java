package dev.idshift.daemon;

import java.util.HashMap;
import java.util.Map;

/**
 * How many connections the daemon serves at once, and for whom: at most {@code total}, at most
 * {@code perPrincipal} for any one principal (so one user's connections cannot take every slot), and
 * the last {@code rootReserve} only for host root (so root can always ask, e.g. to check on it).
 */
final class Admission {
    private final int total;
    private final int perPrincipal;
    private final int rootReserve;
    private final Map<String, Integer> open = new HashMap<>();
    private int inUse;

    Admission(int total, int perPrincipal, int rootReserve) {
        this.total = total;
        this.perPrincipal = perPrincipal;
        this.rootReserve = rootReserve;
    }

    /** Null when admitted (then {@link #release} it once), else why not. */
    synchronized String admit(Principal principal) {
        int limit = principal.hostRoot() ? total : total - rootReserve;
        if (inUse >= limit) {
            return "the daemon is serving " + inUse + " connections already; retry later";
        }
        int mine = open.getOrDefault(principal.key(), 0);
        if (!principal.hostRoot() && mine >= perPrincipal) {
            return "this caller (" + principal + ") has " + mine + " connections open already, the most one caller may; retry later";
        }
        open.put(principal.key(), mine + 1);
        inUse++;
        return null;
    }

    synchronized void release(Principal principal) {
        int mine = open.getOrDefault(principal.key(), 0);
        if (mine <= 1) {
            open.remove(principal.key());
        } else {
            open.put(principal.key(), mine - 1);
        }
        inUse--;
    }
}
