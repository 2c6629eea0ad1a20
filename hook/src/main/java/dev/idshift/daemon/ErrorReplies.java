package dev.idshift.daemon;

import dev.idshift.app.ErrorReporter;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.failure.DaemonProtocolException;
import dev.idshift.failure.Failures;
import dev.idshift.failure.IdshiftException;
import dev.idshift.failure.InternalException;

/**
 * The one place a failure becomes the daemon's error reply: of the failure's kind ({@link Failures#of}),
 * which the client turns back into a failure of the same kind, so the same exit code as in-process.
 */
final class ErrorReplies {
    private ErrorReplies() {
    }

    /**
     * A failure of the daemon's work; a request the codec cannot read (a {@code JsonInputException}
     * naming the field: bad input, as the same fault is in-process); or a line the daemon cannot even
     * frame, too long or cut short ({@link RequestReader.ProtocolViolation}: a breach of the protocol).
     */
    static Response.Failure replyTo(RuntimeException failure) {
        if (failure instanceof RequestReader.ProtocolViolation) {
            return Response.Failure.of(new DaemonProtocolException(failure.getMessage(), failure));
        }
        IdshiftException kind = Failures.of(failure);
        if (kind instanceof InternalException && ErrorReporter.debug()) {
            failure.printStackTrace(); // the daemon's log; the caller gets one line
        }
        return Response.Failure.of(kind);
    }
}
