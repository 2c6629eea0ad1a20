package dev.idshift.daemon;

import dev.idshift.mount.kernel.Fd;
import dev.idshift.sys.Syscalls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
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
    /** A thread per connection (a connection is a conversation), up to 256; idle threads go after 30 s. */
    private final ThreadPoolExecutor pool = newPool();
    /**
     * Requests are processed at most two per core at a time, admitted in arrival order: with a
     * thread per connection and 50 busy connections on 2 cores, unfair scheduling otherwise gives a
     * p99 of 120+ ms while the median is 5 ms.
     */
    private final Semaphore processing = new Semaphore(2 * Runtime.getRuntime().availableProcessors(), true);
    private volatile boolean running = true;
    private UnixServerSocketChannel server;

    private static ThreadPoolExecutor newPool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(256, 256, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(4096));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    public DaemonServer(Path socketPath, dev.idshift.helper.MarkStore marks, Path etc, PrintStream log) {
        this.socketPath = socketPath;
        this.userns = new UsernsCache(64);
        this.handler = new RequestHandler(marks, etc, userns);
        this.log = log;
    }

    /** Binds and serves until {@link #stop()}. */
    public void serve() throws IOException {
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
            while (running) {
                UnixSocketChannel connection;
                try {
                    connection = server.accept();
                } catch (IOException e) {
                    if (!running) {
                        break;
                    }
                    log.println("idshift daemon: accept failed: " + e.getMessage());
                    continue;
                }
                if (connection == null) {
                    continue;
                }
                pool.execute(new Runnable() {
                    @Override
                    public void run() {
                        serveConnection(connection);
                    }
                });
            }
        } finally {
            shutdown();
        }
    }

    public void stop() {
        running = false;
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // closing to wake accept()
        }
    }

    private void shutdown() {
        pool.shutdown();
        try {
            pool.awaitTermination(Protocol.IO_TIMEOUT_SECONDS + 2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        userns.closeAll();
        try {
            Files.deleteIfExists(socketPath);
        } catch (IOException ignored) {
            // best effort on the way out
        }
        log.println("idshift daemon: stopped");
    }

    private void serveConnection(UnixSocketChannel connection) {
        Syscalls sys = Syscalls.get();
        int fd = connection.getFD();
        try {
            sys.setTimeouts(fd, Protocol.IO_TIMEOUT_SECONDS);
            Syscalls.PeerCredentials peer = sys.peerCredentials(fd);
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
            try {
                connection.close();
            } catch (IOException ignored) {
                // already gone
            }
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
