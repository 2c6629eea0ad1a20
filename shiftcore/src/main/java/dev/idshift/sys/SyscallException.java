package dev.idshift.sys;

/** A failed syscall: which one, on what, and the errno. */
public final class SyscallException extends RuntimeException {
    private final String operation;
    private final int errno;

    public SyscallException(String operation, String subject, int errno) {
        super(operation + "(" + subject + "): " + Errno.describe(errno));
        this.operation = operation;
        this.errno = errno;
    }

    public String operation() {
        return operation;
    }

    public int errno() {
        return errno;
    }
}
