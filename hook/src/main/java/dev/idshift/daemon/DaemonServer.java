package dev.idshift.daemon;

import dev.idshift.backend.kernel.UsernsCache;
import dev.idshift.failure.BadInputException;
import dev.idshift.daemon.protocol.Codec;
import dev.idshift.daemon.protocol.Protocol;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.marks.CallerProcess;
import dev.idshift.marks.Refusal;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.sockets.UnixSockets;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;

/**
 * The listening side: accepts connections (jnr-unixsocket), admits each against per-principal caps
 * ({@link Admission}, {@link Principal}) and serves it on a thread of its own. A request line must
 * arrive whole within {@link Protocol#IO_TIMEOUT_SECONDS} of the previous response (or the connect),
 * a response must be taken within as long, a line longer than {@link Protocol#MAX_LINE} ends the
 * connection with an error, and every fd is closed when its connection ends, whatever happened.
 */
public final class DaemonServer {
    private final Path socketPath;
    private final RequestHandler handler;
    private final UsernsCache userns;
    private final PrintStream log;
    /**
     * A thread per connection (a connection is a conversation), up to 256, reused while idle (a new
     * connection takes an idle thread rather than starting one), gone after 30 s idle.
     */
    private final ThreadPoolExecutor pool = newPool();
    /**
     * Requests are processed at most two per core at a time, admitted in arrival order: with a
     * thread per connection and 50 busy connections on 2 cores, unfair scheduling otherwise gives a
     * p99 of 120+ ms while the median is 5 ms.
     */
    private final Semaphore processing = new Semaphore(2 * Runtime.getRuntime().availableProcessors(), true);
    private volatile boolean running = true;
    private UnixServerSocketChannel server;
    private volatile int activatedListener = -1;
    /** Counted down when serve() has cleaned up: a shutdown hook must not let the JVM exit before. */
    private final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);

    private static final int MAX_CONNECTIONS = 256;
    /** One principal's share: a user holding this many cannot keep the others out. */
    private static final int MAX_CONNECTIONS_PER_PRINCIPAL = 32;
    /** Slots only host root may take, so root can always reach its daemon. */
    private static final int ROOT_RESERVE = 16;
    /**
     * SO_SNDBUF of a connection (the kernel doubles it): room for about ten small responses. A
     * client that sends requests but does not read the answers then finds its next answer waiting,
     * and is cut off after the send timeout: a connection has at most that many unanswered requests.
     */
    private static final int RESPONSE_BUFFER = 4096;

    private final Admission admission = new Admission(MAX_CONNECTIONS, MAX_CONNECTIONS_PER_PRINCIPAL, ROOT_RESERVE);

    private static ThreadPoolExecutor newPool() {
        // Handoff queue: an idle thread takes the connection, else a new one starts. Admission caps
        // connections; the pool's own cap only leaves room for threads still on their way back.
        return new ThreadPoolExecutor(0, 2 * MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>());
    }

    public DaemonServer(Path socketPath, dev.idshift.marks.MarkStore marks, Path etc, PrintStream log) {
        this.socketPath = socketPath;
        this.userns = new UsernsCache(64);
        this.handler = new RequestHandler(marks, etc, new DaemonTrees(userns));
        this.log = log;
    }

    /**
     * Serves until {@link #stop()}: on a listening socket inherited from systemd (socket activation:
     * LISTEN_PID is us, LISTEN_FDS >= 1, the socket is fd 3), else on one bound here with
     * jnr-unixsocket.
     */
    public void serve() throws IOException {
        int inherited = SocketActivation.listenerFd();
        if (inherited >= 0) {
            log.println("idshift daemon: serving the socket systemd passed (fd " + inherited + ", protocol version " + Protocol.VERSION + ")");
            activatedListener = inherited;
            try {
                acceptLoop(new Acceptor() {
                    @Override
                    public Connection accept() {
                        return new Connection(UnixSockets.get().accept(inherited), null);
                    }
                });
            } finally {
                shutdown(false);
            }
            return;
        }
        Files.createDirectories(socketPath.getParent());
        if (Files.exists(socketPath)) {
            if (isAnswering(socketPath)) {
                throw new BadInputException("socket " + socketPath + ": another daemon already answers on it");
            }
            Files.delete(socketPath);
        }
        server = UnixServerSocketChannel.open();
        server.socket().bind(new UnixSocketAddress(socketPath.toFile()), 256);
        // Anyone may connect: authorisation is by the kernel's peer credentials, per request.
        Files.setPosixFilePermissions(socketPath, PosixFilePermissions.fromString("rw-rw-rw-"));
        log.println("idshift daemon: listening on " + socketPath + " (protocol version " + Protocol.VERSION + ")");
        try {
            acceptLoop(new Acceptor() {
                @Override
                public Connection accept() throws IOException {
                    UnixSocketChannel channel = server.accept();
                    return channel == null ? null : new Connection(channel.getFD(), channel);
                }
            });
        } finally {
            shutdown(true);
        }
    }

    /**
     * An accepted connection: its fd, and the jnr channel that owns it (null for one accepted with our
     * own syscalls). The channel is kept and closed at the end, never before: closing it shuts the
     * socket down, whoever else holds the fd.
     */
    private record Connection(int fd, UnixSocketChannel channel) {
        void close() {
            if (channel == null) {
                Syscalls.get().close(fd);
                return;
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    /** Where connections come from. */
    private interface Acceptor {
        /** The next connection, or null to look again. */
        Connection accept() throws IOException;
    }

    /** Not admitted: one error line (a fresh socket's buffer takes it without waiting), and closed. */
    private static void refuse(Connection connection, String why) {
        try {
            UnixSockets.get().sendWithFd(connection.fd(), Codec.encode(new Response.Failure(why)), -1, "busy");
        } catch (RuntimeException gone) {
            // the client left
        }
        connection.close();
    }

    private void acceptLoop(Acceptor acceptor) {
        while (running) {
            Connection connection;
            try {
                connection = acceptor.accept();
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    break;
                }
                log.println("idshift daemon: accept failed: " + e.getMessage());
                continue;
            }
            if (connection == null) {
                continue;
            }
            admit(connection);
        }
    }

    /**
     * Pins the peer (CallerProcess: its pidfd, taken now, at connect), counts the connection against
     * its principal, and serves it if that leaves room.
     */
    private void admit(Connection connection) {
        CallerProcess peer;
        Principal principal;
        try {
            peer = CallerProcess.connectedTo(connection.fd());
        } catch (RuntimeException gone) {
            connection.close(); // the peer left before we could tell who it is
            return;
        }
        try {
            principal = Principal.of(peer);
        } catch (Refusal exited) {
            peer.close();
            refuse(connection, exited.getMessage()); // the connecting process is gone already
            return;
        } catch (RuntimeException gone) {
            peer.close();
            connection.close();
            return;
        }
        String refusal = admission.admit(principal);
        if (refusal != null) {
            peer.close();
            refuse(connection, refusal);
            return;
        }
        try {
            pool.execute(new Runnable() {
                @Override
                public void run() {
                    try {
                        serveConnection(connection, peer);
                    } finally {
                        admission.release(principal);
                    }
                }
            });
        } catch (RejectedExecutionException full) {
            admission.release(principal);
            peer.close();
            refuse(connection, "the daemon is shutting down or out of threads; retry later");
        }
    }

    /** Stops accepting, lets connections finish, cleans up; returns when done (at most ~15 s). */
    public void stop() {
        running = false;
        if (activatedListener >= 0) {
            UnixSockets.get().shutdown(activatedListener);
        }
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // closing to wake accept()
        }
        try {
            finished.await(Protocol.IO_TIMEOUT_SECONDS + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void shutdown(boolean removeSocket) {
        pool.shutdown();
        try {
            pool.awaitTermination(Protocol.IO_TIMEOUT_SECONDS + 2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        userns.closeAll();
        if (removeSocket) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException ignored) {
                // best effort on the way out
            }
        }
        log.println("idshift daemon: stopped");
        finished.countDown();
    }

    /** Serves one admitted connection; {@code peer} was pinned at admission and is closed here. */
    private void serveConnection(Connection connection, CallerProcess peer) {
        UnixSockets sockets = UnixSockets.get();
        int fd = connection.fd();
        try {
            sockets.setSendBuffer(fd, RESPONSE_BUFFER);
            sockets.setSendTimeout(fd, Protocol.IO_TIMEOUT_SECONDS * 1000L);
            RequestReader requests = new RequestReader(sockets, fd);
            while (running) {
                byte[] line;
                try {
                    line = requests.nextLine(System.nanoTime() + TimeUnit.SECONDS.toNanos(Protocol.IO_TIMEOUT_SECONDS));
                } catch (RequestReader.ProtocolViolation e) {
                    respond(sockets, fd, ErrorReplies.replyTo(e));
                    return;
                }
                if (line == null) {
                    return; // peer closed
                }
                Response response;
                processing.acquireUninterruptibly();
                try {
                    response = handler.handle(line, peer);
                } finally {
                    processing.release(); // not held while the answer waits for its reader
                }
                respond(sockets, fd, response);
            }
        } catch (RuntimeException e) {
            // timeouts, resets, a peer that vanished: the connection ends, the daemon goes on
        } finally {
            peer.close();
            connection.close();
        }
    }

    /** Sends {@code response} with the fd it owns, if any, and closes it: ours is never kept. */
    private static void respond(UnixSockets sockets, int socket, Response response) {
        try (response) {
            Fd passed = response.passedFd();
            sockets.sendWithFd(socket, Codec.encode(response), passed == null ? -1 : passed.get(), "daemon response");
        }
    }

    private static boolean isAnswering(Path socket) {
        try {
            int fd = UnixSockets.get().connect(socket.toString());
            Syscalls.get().close(fd);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
