package dev.idshift.backend.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the kernel asks of one mount, for measuring (IDSHIFT_FUSE_TRACE=FILE): how many requests of
 * each opcode, and the time the server spent handling them (from the read to the reply, not counting
 * the reply's write). Written to FILE when the mount goes away. Off (the default), it costs a branch
 * per request, and nothing at start-up.
 */
final class RequestTrace {
    private static final int OPCODES = 64;
    private static final String FILE = System.getenv("IDSHIFT_FUSE_TRACE");
    /** Whether requests are counted in this process. */
    static final boolean ON = FILE != null && !FILE.isEmpty();

    // Made only when ON: nothing else in a server uses AtomicLongArray, and its VarHandle classes would
    // be read (from the runtime image) between a spare server's arguments and its mount.
    private final AtomicLongArray counts = ON ? new AtomicLongArray(OPCODES) : null;
    private final AtomicLongArray nanos = ON ? new AtomicLongArray(OPCODES) : null;

    void count(int opcode, long elapsedNanos) {
        int slot = opcode >= 0 && opcode < OPCODES ? opcode : 0;
        counts.incrementAndGet(slot);
        nanos.addAndGet(slot, elapsedNanos);
    }

    /** One line per opcode seen: opcode, count, total server time (µs), mean (µs). */
    void write() {
        if (!ON) {
            return;
        }
        StringBuilder text = new StringBuilder("opcode count server_us mean_us\n");
        for (int opcode = 0; opcode < OPCODES; opcode++) {
            long count = counts.get(opcode);
            if (count > 0) {
                long micros = nanos.get(opcode) / 1000;
                text.append(opcode).append(' ').append(count).append(' ').append(micros).append(' ')
                        .append(String.format("%.1f", (double) micros / count)).append('\n');
            }
        }
        try {
            Files.write(Path.of(FILE), text.toString().getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            System.err.println("idshift: fuse: cannot write the request trace to " + FILE + ": " + e.getMessage());
        }
    }
}
