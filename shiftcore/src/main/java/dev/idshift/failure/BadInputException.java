package dev.idshift.failure;

/**
 * An input a person must fix (a path, a file, an option value, an id map, a JSON document); the
 * message names the input and says what is wrong with it.
 */
public non-sealed class BadInputException extends IdshiftException {
    public BadInputException(String message) {
        super(FailureKind.BAD_INPUT, message, null);
    }

    public BadInputException(String message, Throwable cause) {
        super(FailureKind.BAD_INPUT, message, cause);
    }
}
