package dev.idshift.sys;

/** A failed syscall: which one, on what, and the errno. */
public final class SyscallException extends RuntimeException {
    private final String operation;
    private final String subject;
    private final int errno;

    public SyscallException(String operation, String subject, int errno) {
        super(operation + "(" + subject + "): " + Errno.describe(errno));
        this.operation = operation;
        this.subject = subject;
        this.errno = errno;
    }

    public String operation() {
        return operation;
    }

    /** What the call was made on: a path, mostly (a mount's, a file's); else a pid, a socket option, a flag word. */
    public String subject() {
        return subject;
    }

    public int errno() {
        return errno;
    }
}
