package dev.idshift.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.sys.Fd;
import dev.idshift.sys.sockets.UnixSockets;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Issue 10 item 9: a request line must arrive whole before its deadline, however it trickles. */
class RequestReaderTest {
    /** A connected pair: our end as a raw fd (as the daemon has it), the peer as a JDK channel. */
    private record Pair(Fd ours, SocketChannel peer, Path directory) implements AutoCloseable {
        static Pair open() throws Exception {
            Path directory = Files.createTempDirectory("request-reader");
            Path socket = directory.resolve("s");
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(socket));
                Fd ours = new Fd(UnixSockets.get().connect(socket.toString()));
                return new Pair(ours, server.accept(), directory);
            }
        }

        void send(String text) throws Exception {
            peer.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public void close() throws Exception {
            peer.close();
            ours.close();
            Files.deleteIfExists(directory.resolve("s"));
            Files.deleteIfExists(directory);
        }
    }

    @Test
    void linesComeOneAtATimeAndPipelinedOnesWait() throws Exception {
        try (Pair pair = Pair.open()) {
            RequestReader reader = new RequestReader(UnixSockets.get(), pair.ours().get());
            pair.send("{\"a\":1}\n{\"b\":2}\n{\"c\"");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            assertArrayEquals("{\"a\":1}".getBytes(StandardCharsets.UTF_8), reader.nextLine(deadline));
            assertArrayEquals("{\"b\":2}".getBytes(StandardCharsets.UTF_8), reader.nextLine(deadline));
            pair.send(":3}\n");
            assertArrayEquals("{\"c\":3}".getBytes(StandardCharsets.UTF_8), reader.nextLine(deadline));
            pair.peer().shutdownOutput();
            assertNull(reader.nextLine(deadline), "the peer closed");
        }
    }

    @Test
    void aTrickleDoesNotMoveTheDeadline() throws Exception {
        try (Pair pair = Pair.open()) {
            RequestReader reader = new RequestReader(UnixSockets.get(), pair.ours().get());
            Thread trickle = new Thread(() -> {
                try {
                    for (int i = 0; i < 30; i++) {
                        pair.send(" ");
                        Thread.sleep(50);
                    }
                } catch (Exception stopped) {
                    // the test is over
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            long start = System.nanoTime();
            RequestReader.ProtocolViolation cut = assertThrows(RequestReader.ProtocolViolation.class,
                    () -> reader.nextLine(start + TimeUnit.MILLISECONDS.toNanos(400)));
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(cut.getMessage().contains("no complete request line"), cut.getMessage());
            assertTrue(took >= 390 && took < 1000, "cut at the deadline, not after the trickle: " + took + " ms");
        }
    }
}
