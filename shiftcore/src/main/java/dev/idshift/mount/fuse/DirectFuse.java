package dev.idshift.mount.fuse;

/**
 * The FUSE server that speaks the kernel's protocol itself (FuseDevice, FuseSession, ShiftingNodes)
 * instead of libfuse 2 through jnr-fuse: node ids that follow the source's inodes, kernel-enforced
 * ACLs, passthrough, RENAME2. The default; IDSHIFT_FUSE_SERVER=libfuse selects the old server.
 */
public final class DirectFuse {
    /** Threads serving the device, each on its own cloned fd. */
    private static final int DEFAULT_THREADS = 4;

    private DirectFuse() {
    }

    public static boolean chosen() {
        String choice = System.getenv("IDSHIFT_FUSE_SERVER");
        return choice == null || !choice.equals("libfuse");
    }

    /**
     * Mounts {@code target} and serves it until it is unmounted.
     *
     * @param rootFd    an O_PATH directory fd of the source, kept for the mount's life
     * @param onMounted run once INIT is answered
     */
    public static void serve(int rootFd, String source, String target, IdTranslation ids, boolean readonly,
                             Runnable onMounted) {
        FuseDevice device = FuseDevice.mount(target, source, readonly);
        new FuseSession(device, rootFd, ids, onMounted, threads()).serve();
    }

    private static int threads() {
        String configured = System.getenv("IDSHIFT_FUSE_THREADS");
        if (configured != null && configured.matches("[1-9][0-9]?")) {
            return Integer.parseInt(configured);
        }
        return DEFAULT_THREADS;
    }
}
