package dev.idshift.sys.mounts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.idshift.failure.Failures;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import org.junit.jupiter.api.Test;

/**
 * A refused fsconfig names the key (and value) it was setting, beside the call, the path and the
 * errno: one filesystem context takes many settings, and "fsconfig(overlay /m): EINVAL" does not
 * say which one the kernel refused. Made with the real calls on an fd number never open (EBADF): no root needed.
 */
class FsconfigFailureTest {
    private static final int NOT_AN_FD = 1 << 20; // past any fd limit: never open

    private static String refusal(Runnable call) {
        return assertThrows(SyscallException.class, call::run).getMessage();
    }

    @Test
    void aStringSettingIsNamedWithItsValue() {
        assertEquals("fsconfig(/run/x/protected, uid=100000): EBADF (Bad file descriptor)", refusal(() ->
                MountCalls.kernel().fsconfig(NOT_AN_FD, Linux.FSCONFIG_SET_STRING, "uid", "100000", "/run/x/protected")));
    }

    @Test
    void aFlagAndTheCreateCommandAreNamed() {
        assertEquals("fsconfig(overlay /m: userxattr, userxattr): EBADF (Bad file descriptor)", refusal(() ->
                MountCalls.kernel().fsconfig(NOT_AN_FD, Linux.FSCONFIG_SET_FLAG, "userxattr", null, "overlay /m: userxattr")));
        assertEquals("fsconfig(overlay /m, create): EBADF (Bad file descriptor)", refusal(() ->
                MountCalls.kernel().fsconfig(NOT_AN_FD, Linux.FSCONFIG_CMD_CREATE, null, null, "overlay /m")));
    }

    @Test
    void aLayerGivenAsAnFdIsNamedByItsKey() {
        assertEquals("fsconfig(overlay /m: lower layer /l, lowerdir+=fd): EBADF (Bad file descriptor)", refusal(() ->
                MountCalls.kernel().fsconfigFd(NOT_AN_FD, "lowerdir+", NOT_AN_FD, "overlay /m: lower layer /l")));
    }

    @Test
    void theKernelRefusalKeepsTheKeyInItsMessageAndTheCallAndPathApart() {
        SyscallException failure = assertThrows(SyscallException.class, () ->
                MountCalls.kernel().fsconfig(NOT_AN_FD, Linux.FSCONFIG_SET_STRING, "size", "0k", "/run/x/protected"));
        KernelRefusedException refused = (KernelRefusedException) Failures.of(failure);
        assertEquals("fsconfig(/run/x/protected, size=0k): EBADF (Bad file descriptor)", refused.getMessage());
        assertEquals("fsconfig", refused.call());
        assertEquals("/run/x/protected", refused.path());
        assertEquals(9, refused.errno());
    }
}
