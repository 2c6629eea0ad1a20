package dev.idshift.failure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** A thread or process the system would not give: one line naming the step, the kind of a kernel refusal. */
class ShortagesTest {
    private static final String JDK_MESSAGE = "unable to create native thread: possibly out of memory or process/resource limits reached";

    @Test
    void theStepIsNamedAndTheJdksCauseKept() {
        OutOfMemoryError noThread = new OutOfMemoryError(JDK_MESSAGE);
        KernelRefusedException failure = Shortages.noThread("the FUSE server's reader", noThread);
        assertEquals("cannot start a thread for the FUSE server's reader: the pids limit? (unable to create native thread)",
                failure.getMessage());
        assertSame(noThread, failure.getCause());
        assertEquals(FailureKind.KERNEL_REFUSED, failure.kind());
    }

    @Test
    void aShortageIsFoundThroughWrappersAndOnlyAThreadShortage() {
        OutOfMemoryError noThread = new OutOfMemoryError(JDK_MESSAGE);
        assertSame(noThread, Shortages.threadShortageIn(new IllegalStateException(new RuntimeException(noThread))));
        assertNull(Shortages.threadShortageIn(new OutOfMemoryError("Java heap space")));
        assertNull(Shortages.threadShortageIn(new IllegalStateException("other")));
        assertEquals(FailureKind.KERNEL_REFUSED, Failures.of(new RuntimeException(noThread)).kind());
        assertEquals(FailureKind.INTERNAL, Failures.of(new OutOfMemoryError("Java heap space")).kind());
    }

    @Test
    void aJvmThatCouldNotStartSaysSoInOneOfSeveralWays() {
        assertTrue(Shortages.mentionsThreadShortage("Error occurred during initialization of VM\njava.lang.OutOfMemoryError: "
                + JDK_MESSAGE));
        assertTrue(Shortages.mentionsThreadShortage("#\n# Cannot create worker GC thread. Out of system resources."));
        assertTrue(Shortages.mentionsThreadShortage("Cannot create VM thread. Out of system resources."));
        assertTrue(Shortages.mentionsThreadShortage("Error occurred during initialization of VM\nCould not create G1ServiceThread"));
        assertFalse(Shortages.mentionsThreadShortage("Error: Could not create the Java Virtual Machine."));
        assertFalse(Shortages.mentionsThreadShortage("cannot mount /mnt: mount_setattr: EPERM"));
        assertFalse(Shortages.mentionsThreadShortage(null));
    }

    @Test
    void aForkRefusedWithEagainIsThePidsLimitAndAnyOtherIsNot() {
        assertEquals("cannot start a process for the helper: the pids limit? (Cannot run program \"setsid\": error=11, "
                + "Resource temporarily unavailable)", Shortages.processNotStarted("the helper",
                        new IOException("Cannot run program \"setsid\": error=11, Resource temporarily unavailable")).getMessage());
        assertEquals("cannot start the helper: Cannot run program \"x\": error=2, No such file or directory",
                Shortages.processNotStarted("the helper", new IOException("Cannot run program \"x\": error=2, No such file or directory"))
                        .getMessage());
    }
}
