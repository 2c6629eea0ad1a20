package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Open directories: OPENDIR, READDIR and READDIRPLUS from the source's own dirents, RELEASEDIR. */
final class Directories {
    private static final int SEEK_SET = 0;

    private final Lookups lookups;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** Open directories: fd (the fh) -> where the next READDIR continues. */
    private final Map<Integer, long[]> positions = new ConcurrentHashMap<>();

    Directories(Lookups lookups) {
        this.lookups = lookups;
    }

    int open(int nodeFd, RequestBuffers b, long out) {
        int fd = calls.openat(Linux.AT_FDCWD, b.procPath(nodeFd), Linux.O_RDONLY | Linux.O_DIRECTORY, 0);
        if (fd < 0) {
            return fd;
        }
        positions.put(fd, new long[] {0});
        memory.putLong(out, fd);
        memory.putLong(out + 8, 0);
        return FuseProtocol.OPEN_OUT;
    }

    /**
     * READDIR(PLUS) from the source's own dirents, continuing where the last one stopped (the kernel
     * serialises reads of one open directory). Offsets are the source's d_off cookies: an entry that
     * does not fit is read again next time from the last one sent. With {@code plus} each entry is
     * looked up too (a node and its attributes in the same reply).
     */
    int read(long arg, RequestBuffers b, long out, boolean plus) {
        int fd = OpenFiles.fileFd(memory.getLong(arg));
        long[] position = positions.get(fd);
        if (position == null) {
            return -Errno.EBADF;
        }
        long offset = memory.getLong(arg + 8);
        int size = Math.min(memory.getInt(arg + 16), FuseProtocol.MAX_WRITE);
        if (position[0] != offset) {
            long moved = calls.lseek(fd, offset, SEEK_SET);
            if (moved < 0) {
                return (int) moved;
            }
            position[0] = offset;
        }
        int filled = 0;
        while (true) {
            long read = calls.getdents64(fd, b.dirents, RequestBuffers.DIRENTS);
            if (read <= 0) {
                return filled > 0 || read == 0 ? filled : (int) read;
            }
            for (long at = b.dirents; at < b.dirents + read; at += memory.getShort(at + 16) & 0xFFFF) {
                long name = at + 19;
                int nameLength = (int) memory.getStringLength(name);
                int direntLength = (24 + nameLength + 7) & ~7;
                int need = plus ? FuseProtocol.ENTRY_OUT + direntLength : direntLength;
                if (filled + need > size) {
                    calls.lseek(fd, position[0], SEEK_SET);
                    return filled;
                }
                long entry = out + filled;
                if (plus) {
                    if (Lookups.isDotOrDotDot(name)) {
                        memory.setMemory(entry, FuseProtocol.ENTRY_OUT, (byte) 0);  // no node: the kernel skips them
                    } else if (lookups.lookup(fd, name, b, entry) < 0) {
                        position[0] = memory.getLong(at + 8);
                        continue;  // gone since getdents
                    }
                    entry += FuseProtocol.ENTRY_OUT;
                }
                long next = memory.getLong(at + 8);
                memory.putLong(entry, memory.getLong(at));
                memory.putLong(entry + 8, next);
                memory.putInt(entry + 16, nameLength);
                memory.putInt(entry + 20, memory.getByte(at + 18) & 0xFF);
                memory.copyMemory(name, entry + 24, nameLength);
                memory.setMemory(entry + 24 + nameLength, direntLength - 24 - nameLength, (byte) 0);
                filled += need;
                position[0] = next;
            }
        }
    }

    int release(long fh) {
        int fd = OpenFiles.fileFd(fh);
        positions.remove(fd);
        return calls.close(fd);
    }
}
