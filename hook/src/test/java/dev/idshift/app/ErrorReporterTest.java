package dev.idshift.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.marks.Refusal;
import dev.idshift.sys.Errno;
import dev.idshift.sys.SyscallException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** One line on stderr and the exit code of the failure's kind. */
class ErrorReporterTest {
    private record Reported(int code, String line) {
    }

    private static Reported report(Throwable failure, String context) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ErrorReporter.report(failure, context, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Reported(code, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aRefusedMountNamesTheCallThePathAndTheErrno() {
        Reported refused = report(new SyscallException("move_mount", "/srv/shifted", Errno.EBUSY), "mount");
        assertEquals(ExitCode.SYSTEM, refused.code());
        assertEquals("idshift: mount: move_mount(/srv/shifted): " + Errno.describe(Errno.EBUSY) + "\n", refused.line());
    }

    @Test
    void aThreadTheJvmCouldNotStartIsOneLineAndAKernelRefusal() {
        // As jffi's loader wraps it: the shortage is found through the wrappers.
        OutOfMemoryError noThread = new OutOfMemoryError(
                "unable to create native thread: possibly out of memory or process/resource limits reached");
        Reported shortage = report(new IllegalStateException(new java.lang.reflect.InvocationTargetException(noThread)), "mount");
        assertEquals(ExitCode.SYSTEM, shortage.code());
        assertEquals("idshift: mount: cannot start a thread for this command: the pids limit? (unable to create native thread)\n",
                shortage.line());
    }

    @Test
    void theDaemonsRefusalIsExitSix() {
        Reported refused = report(new Refusal("uid map 0:0:1 names host uid 0, which the caller does not own"), "mount");
        assertEquals(ExitCode.REFUSED, refused.code());
        assertEquals("idshift: mount: uid map 0:0:1 names host uid 0, which the caller does not own\n", refused.line());
    }

    @Test
    void aBugSaysSoOnOneLine() {
        Reported bug = report(new NullPointerException("plan"), "hook: container c1");
        assertEquals(ExitCode.INTERNAL, bug.code());
        assertEquals("idshift: hook: container c1: internal error: java.lang.NullPointerException: plan"
                + " (rerun with IDSHIFT_DEBUG=1 for details)\n", bug.line());
    }

    @Test
    void withoutTheLauncherTheFuseBackendIsUnsupported() {
        String launcher = System.clearProperty("idshift.launcher");
        try {
            RuntimeException failure = assertThrows(RuntimeException.class, FuseServerCommand::argv);
            assertInstanceOf(UnsupportedException.class, failure);
            assertEquals(ExitCode.UNSUPPORTED, report(failure, "").code());
        } finally {
            if (launcher != null) {
                System.setProperty("idshift.launcher", launcher);
            }
        }
    }
}
