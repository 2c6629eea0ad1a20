package dev.idshift.daemon;

import dev.idshift.helper.CallerProcess;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.sys.Syscalls;
import java.io.ByteArrayOutputStream;
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
 * The listening side: accepts connections (jnr-unixsocket) and serves each on a bounded pool. A
 * connection's reads and writes time out ({@link Protocol#IO_TIMEOUT_SECONDS}), a line longer than
 * {@link Protocol#MAX_LINE} ends the connection with an error, and every fd is closed when its
 * connection ends, whatever happened.
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

    private static ThreadPoolExecutor newPool() {
        // Handoff queue: an idle thread takes the connection, else a new one starts, up to the cap.
        return new ThreadPoolExecutor(0, MAX_CONNECTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>());
    }

    public DaemonServer(Path socketPath, dev.idshift.helper.MarkStore marks, Path etc, PrintStream log) {
        this.socketPath = socketPath;
        this.userns = new UsernsCache(64);
        this.handler = new RequestHandler(marks, etc, userns);
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
                        return new Connection(Syscalls.get().accept(inherited), null);
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
                throw new IllegalStateException("another daemon already answers on " + socketPath);
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

    /** Over the cap: one error line, and the connection closed (a client retries later). */
    private void refuseBusy(Connection connection) {
        try {
            Syscalls.get().sendWithFd(connection.fd(), RequestHandler.error("the daemon is serving " + MAX_CONNECTIONS
                    + " connections already; retry later").line(), -1, "busy");
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
            try {
                pool.execute(new Runnable() {
                    @Override
                    public void run() {
                        serveConnection(connection);
                    }
                });
            } catch (RejectedExecutionException full) {
                refuseBusy(connection);
            }
        }
    }

    /** Stops accepting, lets connections finish, cleans up; returns when done (at most ~15 s). */
    public void stop() {
        running = false;
        if (activatedListener >= 0) {
            Syscalls.get().shutdown(activatedListener);
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

    private void serveConnection(Connection connection) {
        Syscalls sys = Syscalls.get();
        int fd = connection.fd();
        CallerProcess peer = null;
        try {
            sys.setTimeouts(fd, Protocol.IO_TIMEOUT_SECONDS);
            peer = CallerProcess.connectedTo(fd); // pinned now, at connect: see CallerProcess
            ByteArrayOutputStream pending = new ByteArrayOutputStream();
            while (running) {
                Syscalls.Received chunk = sys.receiveWithFd(fd, 65536, "daemon connection");
                if (chunk.fd() >= 0) {
                    sys.close(chunk.fd()); // clients have no business sending us fds
                }
                if (chunk.bytes().length == 0) {
                    return; // peer closed
                }
                int start = 0;
                byte[] bytes = chunk.bytes();
                for (int i = 0; i < bytes.length; i++) {
                    if (bytes[i] == '\n') {
                        pending.write(bytes, start, i - start);
                        processing.acquireUninterruptibly();
                        try {
                            respond(sys, fd, handler.handle(pending.toByteArray(), peer));
                        } finally {
                            processing.release();
                        }
                        pending.reset();
                        start = i + 1;
                    }
                }
                pending.write(bytes, start, bytes.length - start);
                if (pending.size() > Protocol.MAX_LINE) {
                    respond(sys, fd, RequestHandler.error("request line longer than " + Protocol.MAX_LINE + " bytes"));
                    return;
                }
            }
        } catch (RuntimeException e) {
            // timeouts, resets, a peer that vanished: the connection ends, the daemon goes on
        } finally {
            if (peer != null) {
                peer.close();
            }
            connection.close();
        }
    }

    private static void respond(Syscalls sys, int socket, RequestHandler.Response response) {
        try (Fd passed = response.fd()) {
            sys.sendWithFd(socket, response.line(), passed == null ? -1 : passed.get(), "daemon response");
        }
    }

    private static boolean isAnswering(Path socket) {
        try {
            int fd = Syscalls.get().connectUnix(socket.toString());
            Syscalls.get().close(fd);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
