package dev.idshift.daemon;

import dev.idshift.daemon.protocol.Protocol;
import dev.idshift.sys.sockets.Received;
import dev.idshift.sys.sockets.UnixSockets;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Reads request lines from one connection. A line must arrive whole before a deadline the server
 * sets from the end of its previous response (or the connect): each recv waits only for what is
 * left of it, so a client trickling a byte at a time cannot stretch it. Every fd a client sends is
 * closed at once (clients have no business sending any); a message whose fds did not fit
 * (MSG_CTRUNC) is a protocol error.
 */
final class RequestReader {
    /** Why the connection ends instead of another line. */
    static final class ProtocolViolation extends RuntimeException {
        ProtocolViolation(String message) {
            super(message);
        }
    }

    private final UnixSockets sockets;
    private final int socket;
    private byte[] pending = new byte[0];
    private int start;
    /** Where the search for the next newline resumes: bytes before it hold none. */
    private int scanned;

    RequestReader(UnixSockets sockets, int socket) {
        this.sockets = sockets;
        this.socket = socket;
    }

    /**
     * The next line (without its newline), or null when the peer closed.
     *
     * @param deadline System.nanoTime() by which the whole line must be in
     * @throws ProtocolViolation past the deadline, over {@link Protocol#MAX_LINE}, or fds cut short
     */
    byte[] nextLine(long deadline) {
        while (true) {
            for (int i = Math.max(start, scanned); i < pending.length; i++) {
                if (pending[i] == '\n') {
                    byte[] line = Arrays.copyOfRange(pending, start, i);
                    start = i + 1;
                    scanned = start;
                    return line;
                }
            }
            scanned = pending.length;
            if (pending.length - start > Protocol.MAX_LINE) {
                throw new ProtocolViolation("request line longer than " + Protocol.MAX_LINE + " bytes");
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ProtocolViolation("no complete request line within " + Protocol.IO_TIMEOUT_SECONDS + " s");
            }
            sockets.setReceiveTimeout(socket, Math.max(1, left / 1_000_000));
            Received chunk;
            try {
                chunk = sockets.receive(socket, 65536, "daemon connection");
            } catch (RuntimeException timedOut) {
                if (System.nanoTime() - deadline >= 0) {
                    throw new ProtocolViolation("no complete request line within " + Protocol.IO_TIMEOUT_SECONDS + " s");
                }
                throw timedOut;
            }
            chunk.closeFds();
            if (chunk.controlTruncated()) {
                throw new ProtocolViolation("a request came with more file descriptors than fit; clients send none");
            }
            if (chunk.bytes().length == 0) {
                return null;
            }
            append(chunk.bytes());
        }
    }

    private void append(byte[] bytes) {
        ByteArrayOutputStream joined = new ByteArrayOutputStream(pending.length - start + bytes.length);
        joined.write(pending, start, pending.length - start);
        joined.write(bytes, 0, bytes.length);
        pending = joined.toByteArray();
        scanned -= start;
        start = 0;
    }
}
