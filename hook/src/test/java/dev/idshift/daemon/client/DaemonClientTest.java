package dev.idshift.daemon.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.daemon.protocol.Codec;
import dev.idshift.daemon.protocol.Request;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.failure.DaemonProtocolException;
import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.RefusedException;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileSyscalls;
import dev.idshift.sys.sockets.Received;
import dev.idshift.sys.sockets.UnixSockets;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against a daemon that answers one request with lines and fds of the test's choosing:
 * a tree that comes back is its response's (closed with it unless taken), whatever else comes is
 * closed, a refusal is thrown, and no fd is left behind in any case.
 */
class DaemonClientTest {
    private static final IdMap MAPS = IdMapParser.parseColonList("0:100000:65536");

    private Path directory;
    private Path socket;
    private Path marker;
    private Path other;

    @BeforeEach
    void files() throws Exception {
        directory = Files.createTempDirectory("daemon-client");
        socket = directory.resolve("s");
        marker = Files.createFile(directory.resolve("the-tree"));
        other = Files.createFile(directory.resolve("something-else"));
    }

    @AfterEach
    void cleanUp() throws Exception {
        Files.deleteIfExists(socket);
        Files.deleteIfExists(marker);
        Files.deleteIfExists(other);
        Files.deleteIfExists(directory);
    }

    /** One piece of an answer: bytes, and the file whose fd goes with them (null: none). */
    private record Piece(String text, Path passed) {
    }

    /** Serves one connection: takes a request line, sends {@code pieces}, hangs up. Returns the request. */
    private final class OneAnswer implements AutoCloseable {
        private final UnixServerSocketChannel server;
        private final Thread thread;
        private volatile String request;
        private volatile Throwable failed;

        OneAnswer(Piece... pieces) throws Exception {
            server = UnixServerSocketChannel.open();
            server.socket().bind(new UnixSocketAddress(new File(socket.toString())));
            thread = new Thread(() -> {
                try (UnixSocketChannel channel = server.accept()) {
                    FileSyscalls files = FileSyscalls.get();
                    UnixSockets sockets = UnixSockets.get();
                    ByteArrayOutputStream line = new ByteArrayOutputStream();
                    while (line.size() == 0 || line.toByteArray()[line.size() - 1] != '\n') {
                        Received chunk = sockets.receive(channel.getFD(), 65536, "test request");
                        chunk.closeFds();
                        if (chunk.bytes().length == 0) {
                            break;
                        }
                        line.write(chunk.bytes(), 0, chunk.bytes().length);
                    }
                    request = line.toString(StandardCharsets.UTF_8);
                    for (Piece piece : pieces) {
                        if (piece.passed() == null) {
                            sockets.sendWithFd(channel.getFD(), piece.text().getBytes(StandardCharsets.UTF_8), -1, "test answer");
                            continue;
                        }
                        try (Fd passed = new Fd(files.open(piece.passed().toString(), Linux.O_RDONLY))) {
                            sockets.sendWithFd(channel.getFD(), piece.text().getBytes(StandardCharsets.UTF_8), passed.get(), "test answer");
                        }
                    }
                } catch (Throwable e) {
                    failed = e;
                }
            });
            thread.start();
        }

        String request() throws Exception {
            thread.join(10_000);
            if (failed != null) {
                throw new AssertionError("the test daemon failed", failed);
            }
            return request;
        }

        @Override
        public void close() throws Exception {
            thread.join(10_000);
            server.close();
            Files.deleteIfExists(socket);
        }
    }

    /** How many of our fds are open on {@code file}: a passed fd left open shows here. */
    private static long openOn(Path file) throws Exception {
        long count = 0;
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        count++;
                    }
                } catch (java.io.IOException gone) {
                    // closed meanwhile (the listing's own fd, among others)
                }
            }
        }
        return count;
    }

    private static Path target(Fd fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.get()));
    }

    private DaemonClient client() {
        return new DaemonClient(socket);
    }

    @Test
    void aTreeComesOwnedByItsResponse() throws Exception {
        Request.Mount request = new Request.Mount("/img", MAPS, MAPS, true);
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"fuse\"}\n", marker))) {
            try (Response.Shifted shifted = client().mount(request)) {
                assertEquals(Response.Backend.FUSE, shifted.backend());
                assertEquals(marker, target(shifted.tree()));
            }
            assertEquals(new String(Codec.encode(request), StandardCharsets.UTF_8), daemon.request(), "the request is the codec's");
        }
        assertEquals(0, openOn(marker), "closed with its response");
    }

    @Test
    void aTakenTreeIsTheCallersToClose() throws Exception {
        Fd taken;
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":true,\"source\":\"/r\",\"reason\":\"r\",\"backend\":\"kernel\"}\n",
                marker))) {
            Request.Shift request = new Request.Shift("/r", MAPS, MAPS, Optional.empty(), Optional.empty(), false);
            try (Response.ShiftOutcome outcome = client().shift(request)) {
                taken = assertInstanceOf(Response.Shifted.class, outcome).takeTree();
            }
        }
        assertEquals(marker, target(taken), "still open after its response was closed");
        taken.close();
    }

    @Test
    void onlyTheFirstFdIsKeptAndTheRestClosed() throws Exception {
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":true,", marker),
                new Piece("\"source\":\"/img\",\"backend\":\"kernel\"}\n", other))) {
            try (Response.Shifted shifted = client().mount(new Request.Mount("/img", MAPS, MAPS, false))) {
                daemon.request();
                assertEquals(marker, target(shifted.tree()));
                assertEquals(0, openOn(other), "the second fd was closed on arrival");
            }
        }
        assertEquals(0, openOn(marker), "the first with the response");
    }

    @Test
    void aRefusalIsThrownAndAnFdWithItClosed() throws Exception {
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":false,\"error\":\"/img is not a directory inside a mark"
                + " you may use\"}\n", marker))) {
            RefusedException refused = assertThrows(RefusedException.class,
                    () -> client().mount(new Request.Mount("/img", MAPS, MAPS, false)));
            assertEquals("/img is not a directory inside a mark you may use", refused.getMessage());
            daemon.request();
        }
        assertEquals(0, openOn(marker), "the fd that came with a refusal is closed");
    }

    @Test
    void statusAndMarksAreTyped() throws Exception {
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":true,\"marks\":2,\"served\":9}\n", null))) {
            assertEquals(new Response.Status(2, 9), client().status());
        }
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":true,\"marks\":[{\"path\":\"/m\",\"owner\":7,"
                + "\"allowSubids\":false}]}\n", null))) {
            assertEquals(new Response.Marks(java.util.List.of(new Response.MarkEntry("/m", 7, false))), client().marks());
        }
    }

    @Test
    void aMountAnsweredWithoutItsFdIsAnError() throws Exception {
        try (OneAnswer daemon = new OneAnswer(new Piece("{\"version\":1,\"ok\":true,\"source\":\"/img\",\"backend\":\"kernel\"}\n", null))) {
            assertEquals("the daemon said ok but sent no mount (for /img)", assertThrows(DaemonProtocolException.class,
                    () -> client().mount(new Request.Mount("/img", MAPS, MAPS, false))).getMessage());
        }
    }

    @Test
    void noDaemonSaysWhereItLooked() {
        KernelRefusedException unreachable = assertThrows(KernelRefusedException.class, () -> client().status());
        assertTrue(unreachable.getMessage().startsWith("cannot reach the idshift daemon at " + socket), unreachable.getMessage());
    }
}
