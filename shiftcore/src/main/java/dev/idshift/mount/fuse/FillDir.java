package dev.idshift.mount.fuse;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Type;

/**
 * Calls libfuse's {@code fuse_fill_dir_t} (int (*)(void *buf, const char *name, const struct stat
 * *stbuf, off_t off)) directly through jffi: once per directory entry, so without jnr-fuse's
 * per-call proxy and argument conversion.
 */
final class FillDir {
    private static final Invoker INVOKER = Invoker.getInstance();
    // All-long signature: jffi's fast path calls it without libffi (once per entry, that counts).
    private static final CallContext SIGNATURE = CallContext.getCallContext(Type.SLONG,
            new Type[] {Type.SLONG, Type.SLONG, Type.SLONG, Type.SLONG}, CallingConvention.DEFAULT, false);

    private FillDir() {
    }

    /** @return 0, or 1 when libfuse's buffer is full */
    static int call(long function, long buffer, long name, long stat) {
        return (int) INVOKER.invokeL4NoErrno(SIGNATURE, function, buffer, name, stat, 0);
    }
}
