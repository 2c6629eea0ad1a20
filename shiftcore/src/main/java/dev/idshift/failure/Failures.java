package dev.idshift.failure;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.sys.SyscallException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Which kind a failure is, for the places that map kinds to exit codes and daemon replies. The
 * project's own types are what they are; the few foreign ones that carry a kind of their own are
 * given it here, and only here; whatever else escapes is a bug.
 */
public final class Failures {
    private Failures() {
    }

    /** {@code failure} as one of the project's types: itself, or a wrapper with the same message, keeping it as the cause. */
    public static IdshiftException of(Throwable failure) {
        if (failure instanceof IdshiftException) {
            return (IdshiftException) failure;
        }
        OutOfMemoryError noThread = Shortages.threadShortageIn(failure);
        if (noThread != null) {
            // Started by the JDK or a library on our behalf (ours name their step: Shortages.start).
            return Shortages.noThread(Shortages.UNNAMED_STEP, noThread);
        }
        String message = failure.getMessage() == null ? failure.getClass().getName() : failure.getMessage();
        if (failure instanceof JsonInputException) {
            // config-schema sits below the engine: its bad-input type cannot extend ours.
            return new BadInputException(message, failure);
        }
        if (failure instanceof SyscallException) {
            // The sys layer sits below this package: its failures name call, subject and errno themselves.
            return new KernelRefusedException(message, (SyscallException) failure);
        }
        if (failure instanceof IOException) {
            return new KernelRefusedException(message, (IOException) failure);
        }
        if (failure instanceof UncheckedIOException) {
            return new KernelRefusedException(message, ((UncheckedIOException) failure).getCause());
        }
        if (failure instanceof UnsupportedOperationException) {
            // The sys layer's one: an architecture whose syscall numbers idshift does not know.
            return new UnsupportedException(message, failure);
        }
        return new InternalException(failure.toString(), failure);
    }
}
