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
    /** A dirent64 of the longest name: 19 bytes, 255 and a NUL, aligned to 8. */
    private static final int LONGEST_DIRENT = 280;
    /** The least getdents64 buffer: room for several of the longest dirents. */
    private static final int MIN_DIRENTS = 1024;

    private final Lookups lookups;
    private final ListingPolicy policy;
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /**
     * Open directories: fd (the fh) -> where the next READDIR continues, and whether this listing's
     * entries carry attributes (1) or not (0), as decided at its start.
     */
    private final Map<Integer, long[]> positions = new ConcurrentHashMap<>();

    Directories(Lookups lookups, ListingPolicy policy) {
        this.lookups = lookups;
        this.policy = policy;
    }

    int open(int nodeFd, RequestBuffers b, long out) {
        int fd = calls.openat(Linux.AT_FDCWD, b.procPath(nodeFd), Linux.O_RDONLY | Linux.O_DIRECTORY, 0);
        if (fd < 0) {
            return fd;
        }
        positions.put(fd, new long[] {0, 0});
        memory.putLong(out, fd);
        memory.putLong(out + 8, 0);
        return FuseProtocol.OPEN_OUT;
    }

    /**
     * READDIR(PLUS) from the source's own dirents, continuing where the last one stopped (the kernel
     * serialises reads of one open directory). Offsets are the source's d_off cookies: an entry that
     * does not fit is read again next time from the last one sent. With {@code plus}, entries are
     * looked up too (a node and its attributes in the same reply) as far as {@link ListingPolicy} says
     * for the process {@code pid}; the others carry node id 0.
     */
    int read(long arg, RequestBuffers b, long out, boolean plus, int pid, long directoryId) {
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
        boolean decided = false;
        boolean withAttributes = false;
        int filled = 0;
        boolean bare = false;
        try {
            while (true) {
                // Only about as many dirents as the reply has room for: the rest would be read again next time.
                int count = direntsFor(size - filled, plus);
                long read = calls.getdents64(fd, b.dirents, count);
                if (read <= 0) {
                    return filled > 0 || read == 0 ? filled : (int) read;
                }
                if (plus && !decided) {
                    decided = true;
                    if (offset == 0) {
                        // A new listing. Room left for another dirent: this read reached the end, the directory is all here.
                        int whole = read + LONGEST_DIRENT <= count ? direntCount(b.dirents, read) : -1;
                        position[1] = policy.withAttributes(pid, whole) ? 1 : 0;
                    }
                    withAttributes = position[1] == 1 || policy.withAttributes(pid, -1);
                }
                for (long at = b.dirents; at < b.dirents + read; at += memory.getShort(at + 16) & 0xFFFF) {
                    long name = at + 19;
                    int nameLength = nameLength(name, memory.getShort(at + 16) & 0xFFFF);
                    int direntLength = (24 + nameLength + 7) & ~7;
                    int need = plus ? FuseProtocol.ENTRY_OUT + direntLength : direntLength;
                    if (filled + need > size) {
                        calls.lseek(fd, position[0], SEEK_SET);
                        return filled;
                    }
                    long entry = out + filled;
                    if (plus) {
                        if (!withAttributes || Lookups.isDotOrDotDot(name)) {
                            // No node: the kernel looks the name up if it needs more (and skips . and ..).
                            for (int word = 0; word < FuseProtocol.ENTRY_OUT; word += 8) {
                                memory.putLong(entry + word, 0);
                            }
                            bare |= !withAttributes;
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
                    copyName(name, nameLength, entry + 24, direntLength - 24);
                    filled += need;
                    position[0] = next;
                }
            }
        } finally {
            if (bare) {
                policy.listedBare(pid, directoryId);
            }
        }
    }

    /**
     * A name into a fuse_dirent, NUL-padded to {@code padded} (its length rounded up to 8), a word at a
     * time (little-endian: a word's first bytes are its low ones). The last word read may reach up to
     * 7 bytes past the dirent's own padding: RequestBuffers keeps that slack after the dirents.
     */
    private void copyName(long name, int nameLength, long to, int padded) {
        for (int at = 0; at < padded; at += 8) {
            long word = memory.getLong(name + at);
            int bytes = nameLength - at;
            if (bytes < 8) {
                word &= (1L << (8 * bytes)) - 1;
            }
            memory.putLong(to + at, word);
        }
    }

    /** How many dirents {@code length} bytes of getdents64 output at {@code dirents} hold. */
    private int direntCount(long dirents, long length) {
        int count = 0;
        for (long at = dirents; at < dirents + length; at += memory.getShort(at + 16) & 0xFFFF) {
            count++;
        }
        return count;
    }

    /**
     * The length of a dirent64's name, from its record length: the record is the 19-byte header, the
     * name, a NUL and up to 7 bytes of padding, so only the last 8 bytes need a look.
     */
    private int nameLength(long name, int recordLength) {
        int length = Math.max(0, recordLength - 19 - 8);
        while (memory.getByte(name + length) != 0) {
            length++;
        }
        return length;
    }

    /**
     * A getdents64 size for a reply with {@code room} bytes left: a dirent is about as long as a
     * fuse_dirent, a fifth of a fuse_direntplus; never less than the longest single dirent.
     */
    private static int direntsFor(int room, boolean plus) {
        return Math.min(RequestBuffers.DIRENTS, Math.max(MIN_DIRENTS, plus ? room / 5 : room));
    }

    int release(long fh) {
        int fd = OpenFiles.fileFd(fh);
        positions.remove(fd);
        return calls.close(fd);
    }
}
