package dev.idshift.app;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.idmap.IdMapException;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.sys.SyscallException;
import java.io.PrintStream;

/**
 * Turns a failure into one line on stderr, "idshift: ...", and an exit code. Runtimes show a hook's
 * stderr to the user, so the line must say what is wrong with which input. A stack trace only
 * with IDSHIFT_DEBUG=1.
 */
public final class ErrorReporter {
    private ErrorReporter() {
    }

    public static boolean debug() {
        return "1".equals(System.getenv("IDSHIFT_DEBUG"));
    }

    public static int report(Throwable failure, String context, PrintStream err) {
        int code = exitCodeOf(failure);
        String message = failure.getMessage() == null ? failure.getClass().getName() : failure.getMessage();
        if (code == ExitCode.INTERNAL) {
            message = "internal error: " + failure + " (rerun with IDSHIFT_DEBUG=1 for details)";
        }
        err.println("idshift: " + (context.isEmpty() ? "" : context + ": ") + message.replace('\n', ' '));
        if (debug()) {
            failure.printStackTrace(err);
        }
        return code;
    }

    public static int exitCodeOf(Throwable failure) {
        if (failure instanceof dev.idshift.daemon.client.DaemonClient.DaemonRefused) {
            return ExitCode.REFUSED;
        }
        if (failure instanceof JsonInputException || failure instanceof IdMapException || failure instanceof BadInputException) {
            return ExitCode.BAD_INPUT;
        }
        if (failure instanceof IdmapUnsupportedException || failure instanceof UnsupportedOperationException) {
            return ExitCode.UNSUPPORTED;
        }
        if (failure instanceof SyscallException || failure instanceof java.io.IOException
                || failure instanceof java.io.UncheckedIOException || failure instanceof IllegalStateException) {
            return ExitCode.SYSTEM;
        }
        return ExitCode.INTERNAL;
    }
}
