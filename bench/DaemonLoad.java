// Load generator for bench/daemon-load.sh (run as `java DaemonLoad.java SOCKET SOURCE CLIENTS REQUESTS [status]`):
// CLIENTS concurrent connections each send REQUESTS shifted-mount requests one after another, and
// the latency of each is recorded. One selector thread drives every connection, so the generator
// itself does not put 50 more runnable threads on the machine the daemon is measured on. The mount
// fds the daemon passes are dropped by the kernel (no ancillary data is taken here).
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

public class DaemonLoad {
    /** One connection's progress. */
    static final class Client {
        final SocketChannel channel;
        final ByteBuffer in = ByteBuffer.allocate(8192);
        final StringBuilder line = new StringBuilder();
        int sent;
        long sentAt;

        Client(SocketChannel channel) {
            this.channel = channel;
        }
    }

    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String source = args[1];
        int clients = Integer.parseInt(args[2]);
        int requests = Integer.parseInt(args[3]);
        boolean statusOnly = args.length > 4 && args[4].equals("status");
        byte[] request = (statusOnly ? "{\"version\":1,\"op\":\"status\"}\n"
                : "{\"version\":1,\"op\":\"mount\",\"source\":\"" + source + "\",\"uidmap\":\"0:100000:65536\"}\n")
                .getBytes(StandardCharsets.UTF_8);
        // Warm-up, as for any long-running server: both JVMs' JIT (C2 compiles for seconds on two
        // cores, competing with what is measured) and the daemon's user namespace cache.
        int warmups = Integer.parseInt(System.getProperty("warmup", "3"));
        for (int round = 0; round < warmups; round++) {
            run(socket, request, clients, 100);
        }
        long start = System.nanoTime();
        List<Long> latencies = run(socket, request, clients, requests);
        double seconds = (System.nanoTime() - start) / 1e9;
        Collections.sort(latencies);
        System.out.printf("%d clients x %d %s requests: %d ok in %.2f s%n", clients, requests, statusOnly ? "status" : "shifted-mount",
                latencies.size(), seconds);
        System.out.printf("throughput  %.0f requests/s%n", latencies.size() / seconds);
        System.out.printf("latency     p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   max %.2f ms%n",
                pct(latencies, 0.50), pct(latencies, 0.90), pct(latencies, 0.99), latencies.get(latencies.size() - 1) / 1e6);
    }

    static List<Long> run(String socket, byte[] request, int clients, int requests) throws IOException {
        List<Long> latencies = new ArrayList<>(clients * requests);
        try (Selector selector = Selector.open()) {
            for (int c = 0; c < clients; c++) {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.connect(UnixDomainSocketAddress.of(socket));
                channel.configureBlocking(false);
                Client client = new Client(channel);
                channel.register(selector, SelectionKey.OP_READ, client);
                send(client, request);
            }
            int open = clients;
            while (open > 0) {
                selector.select();
                for (SelectionKey key : selector.selectedKeys()) {
                    Client client = (Client) key.attachment();
                    client.in.clear();
                    int read = client.channel.read(client.in);
                    if (read < 0) {
                        throw new IllegalStateException("daemon hung up");
                    }
                    for (int i = 0; i < read; i++) {
                        char c = (char) client.in.get(i);
                        if (c != '\n') {
                            client.line.append(c);
                            continue;
                        }
                        latencies.add(System.nanoTime() - client.sentAt);
                        if (client.line.indexOf("\"ok\":true") < 0) {
                            throw new IllegalStateException("refused: " + client.line);
                        }
                        client.line.setLength(0);
                        if (client.sent < requests) {
                            send(client, request);
                        } else {
                            key.cancel();
                            client.channel.close();
                            open--;
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        return latencies;
    }

    static void send(Client client, byte[] request) throws IOException {
        client.sentAt = System.nanoTime();
        client.sent++;
        ByteBuffer out = ByteBuffer.wrap(request);
        while (out.hasRemaining()) {
            client.channel.write(out);
        }
    }

    static double pct(List<Long> sorted, double p) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(p * (sorted.size() - 1)))) / 1e6;
    }
}
