package dev.idshift.failure;

import dev.idshift.sys.SyscallException;
import java.io.IOException;

/**
 * The kernel refused what idshift asked of it: a syscall (its {@link SyscallException} cause names
 * the call, the path and the errno, as runc's mountError does), a file operation through the JDK
 * (an {@link IOException} cause), or a state of the system that stops the work (a busy mount, a
 * layer changed under us, a helper process the kernel would not start).
 */
public final class KernelRefusedException extends IdshiftException {
    /** The kernel refused a syscall; {@code message} says what idshift was doing and includes the call's own message. */
    public KernelRefusedException(String message, SyscallException cause) {
        super(FailureKind.KERNEL_REFUSED, message, cause);
    }

    /** The kernel refused a file operation made through the JDK. */
    public KernelRefusedException(String message, IOException cause) {
        super(FailureKind.KERNEL_REFUSED, message, cause);
    }

    /** The kernel would not start a thread or process (see {@link Shortages}): the JVM's error is the cause. */
    KernelRefusedException(String message, Throwable shortage) {
        super(FailureKind.KERNEL_REFUSED, message, shortage);
    }

    /** The refusal was seen another way (a helper's exit, a file that changed); {@code message} says which. */
    public KernelRefusedException(String message) {
        super(FailureKind.KERNEL_REFUSED, message, null);
    }

    /** The syscall the kernel refused: "open_tree", "mount_setattr", ...; null when it was not a syscall of ours. */
    public String call() {
        SyscallException syscall = syscall();
        return syscall == null ? null : syscall.operation();
    }

    /** What the refused call was made on (a path, mostly); null when it was not a syscall of ours. */
    public String path() {
        SyscallException syscall = syscall();
        return syscall == null ? null : syscall.subject();
    }

    /** The errno of the refused call; 0 when it was not a syscall of ours. */
    public int errno() {
        SyscallException syscall = syscall();
        return syscall == null ? 0 : syscall.errno();
    }

    private SyscallException syscall() {
        return getCause() instanceof SyscallException ? (SyscallException) getCause() : null;
    }
}
