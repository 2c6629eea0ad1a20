package dev.idshift.backend.fuse;

import dev.idshift.sys.namespaces.NamespaceFiles;
import dev.idshift.sys.processes.ProcessStatus;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Whether a request's caller holds CAP_SYS_ADMIN over the host (in the host's user namespace): the
 * test a filesystem makes, capable(CAP_SYS_ADMIN), before it lists trusted.* names to its caller. The
 * server makes its calls with its own capabilities, so the source would list them to every caller,
 * and a request carries the caller's fsuid and fsgid but not its capabilities.
 *
 * <p>So they are read from /proc of the request's pid, the thread that made it and waits for the
 * answer. It is the same thread until then: once the server has read a request, the kernel lets its
 * caller neither return nor die (not even by SIGKILL) before it is answered, so its pid is not reused
 * meanwhile, and its capabilities and user namespace change only by its own calls (capset, setns,
 * unshare). The pid is numbered in the pid namespace of the process that mounted the view, this
 * server; /proc is only believed when it numbers this process as that namespace does.
 *
 * <p>/proc shows a task's own credentials. A filesystem stacked on the view (an overlay with the view
 * as a layer, copying a file up) calls it with its mounter's instead, and the kernel decides with
 * those; such a request's fsuid or fsgid differs from the task's (when both are the same, the task's
 * capabilities decide: host root without CAP_SYS_ADMIN copying up through host root's overlay copies
 * no trusted.* attributes, where through an idmapped layer it would). There, and wherever /proc cannot
 * tell (no pid, another pid namespace's /proc, no status to read), the request's fsuid decides as it
 * did before: 0 holds it. A status that is there but does not parse (not what the kernel writes)
 * holds nothing.
 */
final class CallerCapabilities {
    private static final long CAP_SYS_ADMIN = 21;
    /** Whether this /proc numbers processes as the kernel numbers the requests' pids. */
    private static final boolean PROC_IS_OURS = procNumbersUs();

    private CallerCapabilities() {
    }

    /**
     * Whether the caller of a request (its pid, 0 when none is visible, and host fsuid and fsgid) holds
     * CAP_SYS_ADMIN over the host.
     */
    static boolean sysAdmin(int pid, long fsuid, long fsgid) {
        if (pid <= 0 || !PROC_IS_OURS) {
            return fsuid == 0;
        }
        ProcessStatus status;
        try {
            status = ProcessStatus.of(pid);
        } catch (IOException | RuntimeException e) {
            return fsuid == 0;
        }
        if (status.uids() == null || status.gids() == null || status.uids().filesystem() != fsuid
                || status.gids().filesystem() != fsgid) {
            return fsuid == 0;  // not the task's own credentials: a stacked filesystem's mounter's
        }
        if (status.effectiveCapabilities().isEmpty()) {
            return false;
        }
        try {
            // Capabilities held in a user namespace of its own are over that namespace only.
            return (status.effectiveCapabilities().getAsLong() & 1L << CAP_SYS_ADMIN) != 0
                    && NamespaceFiles.sharedWithUs(pid, "user");
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean procNumbersUs() {
        try {
            return Path.of("/proc/self").toRealPath().getFileName().toString()
                    .equals(Long.toString(ProcessHandle.current().pid()));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
