package dev.idshift.backend.fuse;

import dev.idshift.backend.MountAccess;
import java.util.function.BooleanSupplier;

/**
 * The FUSE server: speaks the kernel's FUSE protocol itself (FuseDevice, FuseSession, ShiftingNodes),
 * no libfuse: node ids that follow the source's inodes, kernel-enforced ACLs, passthrough, RENAME2.
 */
public final class DirectFuse {
    /** Threads serving the device, each on its own cloned fd (IDSHIFT_FUSE_THREADS overrides). */
    private static final int DEFAULT_THREADS = 4;
    /** How long the reading thread spins for a next request (IDSHIFT_FUSE_SPIN_US overrides; 0: never): see ReaderTurns. */
    private static final int DEFAULT_SPIN_MICROS = 50;

    private DirectFuse() {
    }

    /**
     * Mounts {@code target} and serves it until it is unmounted.
     *
     * @param rootFd    an O_PATH directory fd of the source, kept for the mount's life
     * @param onMounted run once INIT is answered
     */
    public static void serve(int rootFd, String source, String target, IdTranslation ids, MountAccess access,
                             Runnable onMounted) {
        FuseDevice device = FuseDevice.mount(target, source, access);
        new FuseSession(device, rootFd, ids, onMounted, threads(), spinMicros() * 1000L, fdBudget()).serve();
    }

    /**
     * Answers a few requests on {@code rootFd}'s tree (which must hold a file named "file") without
     * mounting, {@code rounds} times: loads what a server loads, for a class-data archive
     * ({@code idshift __train-fuse}, one round), and compiles its request paths (a spare server).
     *
     * @param enough looked at before each round: true stops the training (a spare given its mount
     *               stops at once rather than share the CPU with serving it)
     */
    public static void train(int rootFd, IdTranslation ids, int rounds, BooleanSupplier enough) {
        ShiftingNodes nodes = FuseSession.nodesOf(rootFd, ids, -1);
        RequestBuffers buffers = new RequestBuffers();
        RequestWriter writer = new RequestWriter(buffers);
        for (int round = 0; round < rounds && !enough.getAsBoolean(); round++) {
            writer.request(FuseProtocol.LOOKUP, FuseProtocol.ROOT_ID, 0, 0).name("file");
            nodes.handle(buffers, -1);
            long file = com.kenai.jffi.MemoryIO.getInstance().getLong(buffers.reply + FuseProtocol.OUT_HEADER);
            writer.request(FuseProtocol.GETATTR, file, 0, 0).u32(0).u32(0).u64(0);
            nodes.handle(buffers, -1);
            writer.request(FuseProtocol.FORGET, file, 0, 0).u64(1);
            nodes.handle(buffers, -1);
            writer.request(FuseProtocol.LOOKUP, FuseProtocol.ROOT_ID, 0, 0).name("missing");
            nodes.handle(buffers, -1);
            writer.request(FuseProtocol.GETATTR, FuseProtocol.ROOT_ID, 0, 0).u32(0).u32(0).u64(0);
            nodes.handle(buffers, -1);
            writer.request(FuseProtocol.OPENDIR, FuseProtocol.ROOT_ID, 0, 0).u32(0).u32(0);
            nodes.handle(buffers, -1);
            long directory = com.kenai.jffi.MemoryIO.getInstance().getLong(buffers.reply + FuseProtocol.OUT_HEADER);
            writer.request(FuseProtocol.READDIRPLUS, FuseProtocol.ROOT_ID, 0, 0).u64(directory).u64(0).u32(65536);
            nodes.handle(buffers, -1);
            writer.request(FuseProtocol.RELEASEDIR, FuseProtocol.ROOT_ID, 0, 0).u64(directory);
            nodes.handle(buffers, -1);
        }
        XattrIds.carriesIds(XattrIds.CAPABILITY);
    }

    /**
     * How many nodes may hold an fd (IDSHIFT_FUSE_FD_BUDGET, for tests and tight limits); by default the
     * open-file limit less a reserve.
     */
    private static long fdBudget() {
        String configured = System.getenv("IDSHIFT_FUSE_FD_BUDGET");
        if (configured != null && !configured.isEmpty() && configured.length() <= 9 && configured.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(configured);
        }
        return -1;
    }

    private static int threads() {
        String configured = System.getenv("IDSHIFT_FUSE_THREADS");
        if (configured != null && configured.length() <= 2 && configured.chars().allMatch(Character::isDigit)
                && Integer.parseInt(configured) > 0) {
            return Integer.parseInt(configured);
        }
        return DEFAULT_THREADS;
    }

    private static int spinMicros() {
        String configured = System.getenv("IDSHIFT_FUSE_SPIN_US");
        if (configured != null && !configured.isEmpty() && configured.length() <= 6 && configured.chars().allMatch(Character::isDigit)) {
            return Integer.parseInt(configured);
        }
        return DEFAULT_SPIN_MICROS;
    }
}
