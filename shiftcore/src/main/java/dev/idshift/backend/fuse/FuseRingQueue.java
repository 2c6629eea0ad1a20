package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.processes.CpuAffinity;
import dev.idshift.sys.uring.IoUring;

/**
 * One queue of FUSE over io_uring (Linux 6.14+; fuse's {@code enable_uring} on): the kernel hands a
 * request made on CPU q to queue q's entries, and this queue's thread, bound to CPU q, answers it
 * there. On /dev/fuse any serving thread takes any request, so a request and its answer each woke a
 * thread on the other CPU (an IPI, and on a VM an exit); here both wake-ups stay on one CPU, where
 * the caller is about to sleep anyway (create10k: 1.86 s on /dev/fuse, 1.10 s with client and server
 * on one CPU, which the queues give without binding the client).
 *
 * <p>A request arrives as a completion of the entry's last command: fuse_in_header in the header
 * buffer, the opcode's own header (the request's first argument) in its op_in area, the rest in the
 * entry's payload buffer. It is laid out again as /dev/fuse gives it, in the thread's request buffer,
 * so {@link ShiftingNodes} serves both paths with one code. The answer goes back the other way:
 * fuse_out_header in the header buffer, the body in the payload, sent with COMMIT_AND_FETCH, which
 * also asks for the next request.
 */
final class FuseRingQueue implements Runnable {
    // struct fuse_uring_req_header: in_out[128], op_in[128], struct fuse_uring_ent_in_out.
    static final int HEADER_SIZE = 288;
    private static final int OP_IN = 128;
    private static final int OP_IN_SIZE = 128;
    /** fuse_uring_ent_in_out: flags (u64), commit_id (u64), payload_sz (u32), padding, reserved. */
    private static final int ENT_COMMIT_ID = 256 + 8;
    private static final int ENT_PAYLOAD_SZ = 256 + 16;
    // enum fuse_uring_cmd, and struct fuse_uring_cmd_req in the SQE's command area: flags, commit_id, qid.
    private static final int CMD_REGISTER = 1;
    private static final int CMD_COMMIT_AND_FETCH = 2;
    private static final int CMD_REQ_COMMIT_ID = 8;
    private static final int CMD_REQ_QID = 16;

    private final MemoryIO memory = MemoryIO.getInstance();
    private final FuseSession session;
    private final IoUring ring;
    private final int deviceFd;
    private final int qid;
    private final int depth;
    private final int payloadSize;
    /** Per entry: its header buffer, then its payload buffer, then its two iovecs. */
    private final long[] headers;
    private final long[] payloads;
    private final long[] iovecs;

    /** The ring must be open before INIT is answered (see {@link FuseRings}); the buffers come with it. */
    FuseRingQueue(FuseSession session, IoUring ring, int deviceFd, int qid, int depth, int payloadSize) {
        this.session = session;
        this.ring = ring;
        this.deviceFd = deviceFd;
        this.qid = qid;
        this.depth = depth;
        this.payloadSize = payloadSize;
        headers = new long[depth];
        payloads = new long[depth];
        iovecs = new long[depth];
        for (int i = 0; i < depth; i++) {
            headers[i] = memory.allocateMemory(HEADER_SIZE, true);
            payloads[i] = memory.allocateMemory(payloadSize, false);
            iovecs[i] = memory.allocateMemory(32, true);
            memory.putLong(iovecs[i], headers[i]);
            memory.putLong(iovecs[i] + 8, HEADER_SIZE);
            memory.putLong(iovecs[i] + 16, payloads[i]);
            memory.putLong(iovecs[i] + 24, payloadSize);
        }
    }

    /** Registers the entries and serves until the connection goes (the kernel then ends every entry). */
    @Override
    public void run() {
        RequestBuffers b;
        try {
            // Not binding (an offline CPU, one outside our cpuset) costs speed, not correctness.
            CpuAffinity.bindCurrentThread(qid);
            b = session.servingThread();
            for (int i = 0; i < depth; i++) {
                command(CMD_REGISTER, i, 0);
            }
        } catch (RuntimeException | Error e) {
            // The kernel holds every request until all queues have registered: refuse instead, so it
            // goes back to /dev/fuse (a failed REGISTER turns the connection's io_uring off).
            System.err.println("idshift: fuse: ring queue " + qid + " cannot start (" + e + "); serving through /dev/fuse");
            abandon();
            return;
        }
        try {
            serve(b);
        } finally {
            close();
        }
    }

    private void serve(RequestBuffers b) {
        while (true) {
            long completion = ring.completion();
            if (completion == 0) {
                int result = ring.submit(1);
                if (result < 0 && result != -Errno.EINTR && result != -Errno.EAGAIN && result != -Errno.EBUSY) {
                    System.err.println("idshift: fuse: ring queue " + qid + ": io_uring_enter: " + Errno.describe(-result));
                    return;
                }
                continue;
            }
            int entry = (int) memory.getLong(completion + IoUring.CQE_USER_DATA);
            int result = memory.getInt(completion + IoUring.CQE_RES);
            ring.seen();
            if (result < 0) {
                // ENOTCONN/ECANCELED: unmounted or aborted. Anything else: the kernel refused the
                // entry (then it serves through /dev/fuse, which the session's other threads read).
                if (result != -Errno.ENOTCONN && result != -Errno.ECANCELED && result != -Errno.ENODEV) {
                    System.err.println("idshift: fuse: ring queue " + qid + ": " + Errno.describe(-result));
                }
                return;
            }
            if (entry < 0 || entry >= depth) {
                continue;
            }
            answer(entry, b);
        }
    }

    /** Serves the request in {@code entry} and queues its answer (sent with the next submit). */
    private void answer(int entry, RequestBuffers b) {
        long header = headers[entry];
        long payload = payloads[entry];
        int length = memory.getInt(header + FuseProtocol.IN_LEN);
        int payloadLength = memory.getInt(header + ENT_PAYLOAD_SZ);
        int opLength = length - FuseProtocol.IN_HEADER - payloadLength;
        int result;
        if (opLength < 0 || opLength > OP_IN_SIZE || payloadLength < 0 || payloadLength > payloadSize
                || FuseProtocol.IN_HEADER + opLength + payloadLength > FuseProtocol.BUFFER) {
            result = -Errno.EIO;  // not what the kernel sends: refused, not read past a buffer
        } else {
            long request = b.request;
            memory.copyMemory(header, request, FuseProtocol.IN_HEADER);
            memory.copyMemory(header + OP_IN, request + FuseProtocol.IN_HEADER, opLength);
            memory.copyMemory(payload, request + FuseProtocol.IN_HEADER + opLength, payloadLength);
            result = session.dispatch(b, deviceFd);
            if (result == ShiftingNodes.NO_REPLY) {
                result = -Errno.ENOSYS;  // FORGET and INTERRUPT, the requests without one, keep to /dev/fuse
            }
        }
        int body = Math.max(result, 0);
        if (body > payloadSize) {
            result = -Errno.EIO;
            body = 0;
        }
        if (body > 0) {
            memory.copyMemory(b.reply + FuseProtocol.OUT_HEADER, payload, body);
        }
        long unique = memory.getLong(header + FuseProtocol.IN_UNIQUE);
        long commitId = memory.getLong(header + ENT_COMMIT_ID);
        memory.putInt(header, FuseProtocol.OUT_HEADER + body);
        memory.putInt(header + 4, Math.min(result, 0));
        memory.putLong(header + 8, unique);
        memory.putInt(header + ENT_PAYLOAD_SZ, body);
        command(CMD_COMMIT_AND_FETCH, entry, commitId);
        if (b.readAhead != null) {
            ring.submit(0);  // the answer first; then the read-ahead that need not delay it
            session.afterReply(b);
        }
    }

    /** Fills a FUSE uring command for {@code entry}; submitted with the next {@link IoUring#submit}. */
    private void command(int command, int entry, long commitId) {
        long sqe = ring.nextEntry();
        if (sqe == 0) {
            // One command per entry is ever outstanding, and the ring has an SQE per entry.
            throw new IllegalStateException("FUSE ring queue " + qid + " has no free submission entry");
        }
        memory.putByte(sqe + IoUring.SQE_OPCODE, (byte) IoUring.OP_URING_CMD);
        memory.putInt(sqe + IoUring.SQE_FD, deviceFd);
        memory.putInt(sqe + IoUring.SQE_CMD_OP, command);
        memory.putLong(sqe + IoUring.SQE_USER_DATA, entry);
        if (command == CMD_REGISTER) {
            memory.putLong(sqe + IoUring.SQE_ADDR, iovecs[entry]);
            memory.putInt(sqe + IoUring.SQE_LEN, 2);
        }
        memory.putLong(sqe + IoUring.SQE_CMD + CMD_REQ_COMMIT_ID, commitId);
        memory.putShort(sqe + IoUring.SQE_CMD + CMD_REQ_QID, (short) qid);
    }

    /**
     * For a queue that cannot serve, before it registered: turns io_uring off for the connection (the
     * kernel would otherwise hold every request until this queue registers) and frees the queue.
     */
    void abandon() {
        refuse();
        close();
    }

    /** A REGISTER the kernel must refuse (one iovec, not two): it then turns io_uring off for the connection. */
    private void refuse() {
        try {
            long sqe = ring.nextEntry();
            if (sqe == 0) {
                return;
            }
            memory.putByte(sqe + IoUring.SQE_OPCODE, (byte) IoUring.OP_URING_CMD);
            memory.putInt(sqe + IoUring.SQE_FD, deviceFd);
            memory.putInt(sqe + IoUring.SQE_CMD_OP, CMD_REGISTER);
            memory.putLong(sqe + IoUring.SQE_ADDR, iovecs[0]);
            memory.putInt(sqe + IoUring.SQE_LEN, 1);
            memory.putShort(sqe + IoUring.SQE_CMD + CMD_REQ_QID, (short) qid);
            ring.submit(1);
        } catch (RuntimeException | Error e) {
            System.err.println("idshift: fuse: ring queue " + qid + " could not refuse the ring either: " + e);
        }
    }

    /** The ring (cancelling what is in flight) and the buffers. */
    void close() {
        ring.close();
        for (int i = 0; i < depth; i++) {
            memory.freeMemory(headers[i]);
            memory.freeMemory(payloads[i]);
            memory.freeMemory(iovecs[i]);
        }
    }
}
