package dev.idshift.backend.fuse;

/**
 * Which READDIRPLUS entries carry their node and attributes, and which only their name (node id 0:
 * the kernel then looks the name up when it needs more, as after a plain READDIR).
 *
 * <p>Attributes cost a lookup here per entry (an open and a statx, the source inode often read from
 * disk) and an inode in the kernel; they save a LOOKUP round trip per entry only to a process that
 * goes on to stat what it lists (find, ls -l, du, tar, rm -r). A process that wants names only (ls -f,
 * globbing, a readdir of a big directory) is fastest without them. The kernel's own choice
 * (FUSE_READDIRPLUS_AUTO: attributes for a directory's first chunk, and after a lookup in it) comes too
 * late for the tools that read a whole directory before they stat any of it: measured with it, find
 * -ls made a LOOKUP round trip for 4 of 5 entries. So this server asks for READDIRPLUS always and
 * decides per process (the request's pid), by what the process did:
 * <ul>
 *   <li>a process that looked up {@link #WALK_LOOKUPS} names of a directory it was listed without
 *       attributes is a walker: its listings carry attributes from then on;</li>
 *   <li>a directory of up to {@link #SMALL_DIRECTORY} entries (read whole at its first READDIRPLUS) is
 *       listed with attributes (ls -l of a small directory costs no round trip per entry);</li>
 *   <li>any other listing carries names only: a lookup of a cold inode can cost a disk read, which
 *       listing names never does.</li>
 * </ul>
 * Correctness does not depend on it: a name without attributes is looked up like any other.
 */
final class ListingPolicy {
    /** A directory this small is listed with attributes whole: a few hundred lookups here at most. */
    static final int SMALL_DIRECTORY = 256;
    static final int WALK_LOOKUPS = 16;
    /** Processes remembered at once (a power of 2): a slot is a pid's, until another pid needs it. */
    private static final int SLOTS = 64;

    private final int[] pids = new int[SLOTS];
    /** The node id of the directory the slot's process was last listed without attributes, 0 if none. */
    private final long[] bareDirectories = new long[SLOTS];
    private final int[] lookupsThere = new int[SLOTS];
    private final boolean[] walkers = new boolean[SLOTS];

    /**
     * Whether a listing for {@code pid} carries attributes; {@code whole}: how many entries the
     * directory has, if its first read reached the end, else -1.
     */
    synchronized boolean withAttributes(int pid, int whole) {
        int slot = slot(pid);
        return (pids[slot] == pid && walkers[slot]) || (whole >= 0 && whole <= SMALL_DIRECTORY);
    }

    /** A listing of {@code directory} for {@code pid} held names without attributes. */
    synchronized void listedBare(int pid, long directory) {
        int slot = claim(pid);
        if (bareDirectories[slot] != directory) {
            bareDirectories[slot] = directory;
            lookupsThere[slot] = 0;
        }
    }

    /** {@code pid} looked up a name in {@code directory}. */
    synchronized void lookedUp(int pid, long directory) {
        int slot = slot(pid);
        if (pids[slot] == pid && bareDirectories[slot] == directory && ++lookupsThere[slot] >= WALK_LOOKUPS) {
            walkers[slot] = true;
        }
    }

    private static int slot(int pid) {
        return pid & (SLOTS - 1);
    }

    private int claim(int pid) {
        int slot = slot(pid);
        if (pids[slot] != pid) {
            pids[slot] = pid;
            bareDirectories[slot] = 0;
            lookupsThere[slot] = 0;
            walkers[slot] = false;
        }
        return slot;
    }
}
