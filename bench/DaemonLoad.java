// Load generator for bench/daemon-load.sh (run as `java DaemonLoad.java SOCKET SOURCE CLIENTS REQUESTS`):
// CLIENTS concurrent connections each send REQUESTS shifted-mount requests one after another, and the
// latency of each is recorded. The mount fds the daemon passes are dropped by the kernel (this JDK
// client takes no ancillary data), so what is measured is the daemon's whole job per request.
import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public class DaemonLoad {
    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String source = args[1];
        int clients = Integer.parseInt(args[2]);
        int requests = Integer.parseInt(args[3]);
        byte[] request = ("{\"version\":1,\"op\":\"mount\",\"source\":\"" + source + "\",\"uidmap\":\"0:100000:65536\"}\n")
                .getBytes(StandardCharsets.UTF_8);
        runOnce(socket, request, 5, 20); // warm-up: JIT, the daemon's user namespace cache
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<List<Long>>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            futures.add(pool.submit(() -> client(socket, request, requests)));
        }
        List<Long> latencies = new ArrayList<>();
        for (Future<List<Long>> future : futures) {
            latencies.addAll(future.get());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Collections.sort(latencies);
        System.out.printf("%d clients x %d shifted-mount requests: %d ok in %.2f s%n", clients, requests, latencies.size(), seconds);
        System.out.printf("throughput  %.0f requests/s%n", latencies.size() / seconds);
        System.out.printf("latency     p50 %.2f ms   p90 %.2f ms   p99 %.2f ms   max %.2f ms%n",
                pct(latencies, 0.50), pct(latencies, 0.90), pct(latencies, 0.99), latencies.get(latencies.size() - 1) / 1e6);
    }

    static void runOnce(String socket, byte[] request, int clients, int requests) throws Exception {
        for (int i = 0; i < clients; i++) {
            client(socket, request, requests);
        }
    }

    static List<Long> client(String socket, byte[] request, int requests) throws Exception {
        List<Long> latencies = new ArrayList<>(requests);
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer in = ByteBuffer.allocate(4096);
            for (int r = 0; r < requests; r++) {
                long t0 = System.nanoTime();
                channel.write(ByteBuffer.wrap(request));
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                boolean done = false;
                while (!done) {
                    in.clear();
                    if (channel.read(in) < 0) {
                        throw new IllegalStateException("daemon hung up");
                    }
                    for (int i = 0; i < in.position(); i++) {
                        if (in.get(i) == '\n') {
                            done = true;
                        } else {
                            line.write(in.get(i));
                        }
                    }
                }
                long t1 = System.nanoTime();
                if (!line.toString(StandardCharsets.UTF_8).contains("\"ok\":true")) {
                    throw new IllegalStateException("refused: " + line);
                }
                latencies.add(t1 - t0);
            }
        }
        return latencies;
    }

    static double pct(List<Long> sorted, double p) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.round(p * (sorted.size() - 1)))) / 1e6;
    }
}
