package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import java.nio.charset.StandardCharsets;

/**
 * Writes a FUSE request as the kernel would into a thread's request buffer, without a mount: for
 * the server's class-data training run and for tests of {@link ShiftingNodes}.
 */
final class RequestWriter {
    private final MemoryIO memory = MemoryIO.getInstance();
    private final RequestBuffers buffers;
    private long unique = 1;
    private int pid;

    RequestWriter(RequestBuffers buffers) {
        this.buffers = buffers;
    }

    /** The process the next requests come from (0, the kernel's own, until set). */
    RequestWriter from(int processId) {
        this.pid = processId;
        return this;
    }

    /** Starts a request from {@code uid}:{@code gid} on {@code nodeId}; the argument bytes follow. */
    Arguments request(int opcode, long nodeId, long uid, long gid) {
        long in = buffers.request;
        memory.setMemory(in, FuseProtocol.IN_HEADER, (byte) 0);
        memory.putInt(in + FuseProtocol.IN_OPCODE, opcode);
        memory.putLong(in + FuseProtocol.IN_UNIQUE, unique++);
        memory.putLong(in + FuseProtocol.IN_NODEID, nodeId);
        memory.putInt(in + FuseProtocol.IN_UID, (int) uid);
        memory.putInt(in + FuseProtocol.IN_GID, (int) gid);
        memory.putInt(in + FuseProtocol.IN_PID, pid);
        return new Arguments(in + FuseProtocol.IN_HEADER);
    }

    /** The argument area, filled in order. */
    final class Arguments {
        private long at;

        private Arguments(long at) {
            this.at = at;
        }

        Arguments u32(long value) {
            memory.putInt(at, (int) value);
            at += 4;
            return this;
        }

        Arguments u64(long value) {
            memory.putLong(at, value);
            at += 8;
            return this;
        }

        /** NUL-terminated. */
        Arguments name(String text) {
            return bytes(text.getBytes(StandardCharsets.UTF_8));
        }

        Arguments bytes(byte[] raw) {
            memory.putByteArray(at, raw, 0, raw.length);
            memory.putByte(at + raw.length, (byte) 0);
            at += raw.length + 1;
            return this;
        }
    }
}
