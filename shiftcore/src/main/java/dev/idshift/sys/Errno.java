package dev.idshift.sys;

/** errno names and texts for the values our syscalls return (Linux generic numbering). */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int E2BIG = 7;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EROFS = 30;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EOVERFLOW = 75;
    public static final int ENOPROTOOPT = 92;
    public static final int EOPNOTSUPP = 95;
    public static final int ENOTCONN = 107;
    public static final int ESTALE = 116;
    public static final int ECANCELED = 125;
    public static final int EPROTO = 71;

    private static final String[][] NAMES = new String[134][];

    static {
        name(EPERM, "EPERM", "Operation not permitted");
        name(ENOENT, "ENOENT", "No such file or directory");
        name(ESRCH, "ESRCH", "No such process");
        name(EINTR, "EINTR", "Interrupted system call");
        name(EIO, "EIO", "Input/output error");
        name(E2BIG, "E2BIG", "Argument list too long");
        name(EBADF, "EBADF", "Bad file descriptor");
        name(EAGAIN, "EAGAIN", "Resource temporarily unavailable");
        name(ENOMEM, "ENOMEM", "Cannot allocate memory");
        name(EACCES, "EACCES", "Permission denied");
        name(EBUSY, "EBUSY", "Device or resource busy");
        name(EEXIST, "EEXIST", "File exists");
        name(EXDEV, "EXDEV", "Invalid cross-device link");
        name(ENODEV, "ENODEV", "No such device");
        name(ENOTDIR, "ENOTDIR", "Not a directory");
        name(EISDIR, "EISDIR", "Is a directory");
        name(EINVAL, "EINVAL", "Invalid argument");
        name(EROFS, "EROFS", "Read-only file system");
        name(ERANGE, "ERANGE", "Numerical result out of range");
        name(ENAMETOOLONG, "ENAMETOOLONG", "File name too long");
        name(ENOSYS, "ENOSYS", "Function not implemented");
        name(ELOOP, "ELOOP", "Too many levels of symbolic links");
        name(ENODATA, "ENODATA", "No data available");
        name(EOVERFLOW, "EOVERFLOW", "Value too large for defined data type");
        name(ENOPROTOOPT, "ENOPROTOOPT", "Protocol not available");
        name(EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported");
        name(ENOTCONN, "ENOTCONN", "Transport endpoint is not connected");
        name(ECANCELED, "ECANCELED", "Operation canceled");
    }

    private Errno() {
    }

    private static void name(int errno, String name, String text) {
        NAMES[errno] = new String[] {name, text};
    }

    /** "EPERM (Operation not permitted)", or "errno 77" for one we have no name for. */
    public static String describe(int errno) {
        if (errno > 0 && errno < NAMES.length && NAMES[errno] != null) {
            return NAMES[errno][0] + " (" + NAMES[errno][1] + ")";
        }
        return "errno " + errno;
    }
}
