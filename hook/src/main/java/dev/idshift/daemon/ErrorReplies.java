package dev.idshift.daemon;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.idmap.IdMapException;
import dev.idshift.marks.Refusal;

/** The one place a failure becomes the daemon's error reply. */
final class ErrorReplies {
    private ErrorReplies() {
    }

    /**
     * Bad input and refusals are the caller's to read as they are; anything else is a fault of
     * ours, said as such.
     */
    static Response.Failure replyTo(RuntimeException failure) {
        if (failure instanceof JsonInputException || failure instanceof IdMapException || failure instanceof Refusal
                || failure instanceof RequestReader.ProtocolViolation) {
            return new Response.Failure(failure.getMessage());
        }
        return new Response.Failure("internal error: " + failure);
    }
}
