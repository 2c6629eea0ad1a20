package dev.idshift.sys;

/** A failed syscall: which one, on what (and with what, where that matters), and the errno. */
public final class SyscallException extends RuntimeException {
    private final String operation;
    private final String subject;
    private final int errno;

    public SyscallException(String operation, String subject, int errno) {
        this(operation, subject, null, errno);
    }

    /**
     * @param argument what else the call was given that a reader needs to see what failed, or null:
     *                 fsconfig's key and value ("lowerdir+=fd", "uid=100000"), since one filesystem
     *                 context takes many settings and the errno alone does not say which one failed
     */
    public SyscallException(String operation, String subject, String argument, int errno) {
        super(operation + "(" + subject + (argument == null ? "" : ", " + argument) + "): " + Errno.describe(errno));
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
