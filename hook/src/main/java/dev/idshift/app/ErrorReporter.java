package dev.idshift.app;

import dev.idshift.failure.Failures;
import dev.idshift.failure.IdshiftException;
import dev.idshift.failure.InternalException;
import java.io.PrintStream;

/**
 * Turns a failure into one line on stderr, "idshift: ...", and an exit code ({@link ExitCode#of}).
 * Runtimes show a hook's stderr to the user, so the line must say what is wrong with which input. A
 * stack trace only with IDSHIFT_DEBUG=1.
 */
public final class ErrorReporter {
    private ErrorReporter() {
    }

    public static boolean debug() {
        return "1".equals(System.getenv("IDSHIFT_DEBUG"));
    }

    public static int report(Throwable failure, String context, PrintStream err) {
        IdshiftException kind = Failures.of(failure);
        String message = kind.getMessage();
        if (kind instanceof InternalException) {
            message = "internal error: " + message + " (rerun with IDSHIFT_DEBUG=1 for details)";
        }
        err.println("idshift: " + (context.isEmpty() ? "" : context + ": ") + message.replace('\n', ' '));
        if (debug()) {
            failure.printStackTrace(err);
        }
        return ExitCode.of(kind);
    }
}
