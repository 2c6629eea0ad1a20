package dev.idshift.app;

import dev.idshift.failure.IdshiftException;

/**
 * Exit codes, stable and documented in the README (and in {@code idshift --help}), so runtimes' logs
 * and scripts can tell a bad config from a kernel that refuses. {@link #of} is the one place a failure
 * becomes one.
 */
public final class ExitCode {
    public static final int OK = 0;
    /** A bug or an unexpected failure: rerun with IDSHIFT_DEBUG=1 and report it. */
    public static final int INTERNAL = 1;
    /** The command line is wrong. */
    public static final int USAGE = 2;
    /** An input is wrong: JSON, annotation, id map, missing bundle/rootfs. */
    public static final int BAD_INPUT = 3;
    /** The kernel refused a syscall (permissions, busy mount, ...). */
    public static final int SYSTEM = 4;
    /** This kernel or filesystem cannot do what was asked (e.g. no idmapped mounts). */
    public static final int UNSUPPORTED = 5;
    /** The idshift daemon refused the request (not marked, ids not the caller's, ...). */
    public static final int REFUSED = 6;

    private ExitCode() {
    }

    /**
     * The exit code of each kind of failure. {@code idshift mount} through the daemon exits with the
     * same code as in-process: the client rebuilds the daemon's failure as the same kind.
     */
    public static int of(IdshiftException failure) {
        return switch (failure.kind()) {
            case BAD_INPUT -> BAD_INPUT;
            case REFUSED -> REFUSED;
            case KERNEL_REFUSED -> SYSTEM;
            case UNSUPPORTED -> UNSUPPORTED;
            // A client and a daemon that do not understand each other: a bug on one side.
            case DAEMON_PROTOCOL, INTERNAL -> INTERNAL;
        };
    }
}
