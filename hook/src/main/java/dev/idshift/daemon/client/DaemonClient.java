package dev.idshift.daemon.client;

import dev.idshift.config.json.JsonInputException;
import dev.idshift.daemon.protocol.Codec;
import dev.idshift.daemon.protocol.Protocol;
import dev.idshift.daemon.protocol.Request;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.failure.BadInputException;
import dev.idshift.failure.DaemonProtocolException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.sys.Fd;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.sockets.Received;
import dev.idshift.sys.sockets.UnixSockets;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;

/**
 * Asks the idshift daemon, one connection per request. Typed both ways: a {@link Request} in, the
 * {@link Response} it is answered by out; a failed answer is thrown as a failure of the daemon's kind
 * ({@link Response.Failure#failure()}: a refusal is a {@code RefusedException}, exit 6). A tree that
 * comes back is owned by its {@link Response.Shifted} (closed with it unless taken).
 *
 * <p>Raw syscalls, no jnr: this runs in hooks too, where every millisecond of start-up shows.
 */
public final class DaemonClient {
    private final Path socket;

    public DaemonClient(Path socket) {
        this.socket = socket;
    }

    /** The daemon at IDSHIFT_SOCKET, else the default socket. */
    public static DaemonClient fromEnvironment() {
        return new DaemonClient(Protocol.socketFromEnvironment());
    }

    public Response.Status status() {
        return (Response.Status) ask(new Request.Status());
    }

    public Response.Marks marks() {
        return (Response.Marks) ask(new Request.Marks());
    }

    /** A detached shifted mount of the request's source, made by the daemon; attach it with move_mount. */
    public Response.Shifted mount(Request.Mount request) {
        return (Response.Shifted) ask(request);
    }

    /** A container's rootfs, planned by the daemon from the container's maps as the caller sees them. */
    public Response.ShiftOutcome shift(Request.Shift request) {
        return (Response.ShiftOutcome) ask(request);
    }

    /** The answer to {@code request}: of the type the codec decodes for it, never a failure (thrown). */
    private Response ask(Request request) {
        UnixSockets sockets = UnixSockets.get();
        Syscalls sys = Syscalls.get();
        int connected;
        try {
            connected = sockets.connect(socket.toString());
        } catch (SyscallException e) {
            throw new KernelRefusedException("cannot reach the idshift daemon at " + socket + " (" + e.getMessage()
                    + "); start it with `idshift daemon` as root", e);
        } catch (IllegalArgumentException e) {
            throw new BadInputException("the idshift daemon's socket " + socket + ": " + e.getMessage(), e);
        }
        try (Fd connection = new Fd(connected)) {
            sockets.setTimeouts(connection.get(), Protocol.IO_TIMEOUT_SECONDS * 3L);
            sockets.sendWithFd(connection.get(), Codec.encode(request), -1, "daemon request");
            Fd passed = null;
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            try {
                while (true) {
                    Received chunk = sockets.receive(connection.get(), 65536, "daemon response");
                    for (int received : chunk.fds()) {
                        if (passed == null) {
                            passed = new Fd(received); // the daemon sends one mount; anything more is closed
                        } else {
                            sys.close(received);
                        }
                    }
                    line.write(chunk.bytes(), 0, chunk.bytes().length);
                    if (chunk.bytes().length == 0 || chunk.bytes()[chunk.bytes().length - 1] == '\n') {
                        break;
                    }
                }
            } catch (RuntimeException e) {
                if (passed != null) {
                    passed.close();
                }
                throw e;
            }
            Response response;
            try {
                response = Codec.decodeResponse(request, line.toByteArray(), passed); // passed is the response's now
            } catch (JsonInputException e) {
                throw new DaemonProtocolException("the idshift daemon at " + socket + " answered what is not an answer: "
                        + e.getMessage(), e);
            }
            if (response instanceof Response.Failure) {
                throw ((Response.Failure) response).failure();
            }
            return response;
        }
    }
}
