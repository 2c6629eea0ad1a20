package dev.idshift.app;

/** An input a person must fix (a path, a file, an option value); exit code {@link ExitCode#BAD_INPUT}. */
public final class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }
}
