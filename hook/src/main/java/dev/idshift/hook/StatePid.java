package dev.idshift.hook;

import dev.idshift.failure.BadInputException;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.namespaces.NamespaceFiles;
import dev.idshift.sys.namespaces.UserNamespaceOwner;

/**
 * The hook mounts into the namespaces of the state's pid, so before it mounts anything the pid must
 * be what a runtime run by root hands a prestart/createRuntime hook: a container's init. That is, its
 * user namespace is not ours, and its top-level ancestor below ours was created by root (a user's
 * `unshare -Ur` is not a container of a root runtime); its mount namespace is not ours (else we would
 * mount over the host's own tree).
 *
 * <p>"Ours" is the hook's own namespace, which is the host's for a root runtime and the outer
 * container's for a runtime nested in one (its hook runs in that container's namespaces): there the
 * inner container's user namespace is a child that the outer container's root created, which is the
 * same rule one level down.
 */
final class StatePid {
    private StatePid() {
    }

    /** @throws BadInputException (exit code 3) naming the pid and why it is refused */
    static void verify(long pid) {
        String refusal = refusal(pid);
        if (refusal != null) {
            throw new BadInputException("$.pid " + pid + ": " + refusal + "; refusing to mount anything for it");
        }
    }

    /** Why {@code pid} is not a root-made container's process, or null when it is. */
    static String refusal(long pid) {
        UserNamespaceOwner owner;
        try {
            owner = UserNamespaceOwner.ofPid(pid);
        } catch (SyscallException e) {
            return "cannot inspect its user namespace (" + e.getMessage() + ")";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        if (owner.host()) {
            return "the process is in the hook's own user namespace, not a container's";
        }
        if (!owner.hostRoot()) {
            return "its user namespace was created by uid " + owner.creatorUid() + ", not by root: not a container of a root-run runtime";
        }
        try {
            if (NamespaceFiles.sharedWithUs(pid, "mnt")) {
                return "the process is in the hook's own mount namespace, not a container's";
            }
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        return null;
    }
}
