package dev.idshift.backend.fuse;

import com.kenai.jffi.MemoryIO;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.files.FileCalls;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open directories: OPENDIR, READDIR and READDIRPLUS from the source's own dirents, RELEASEDIR.
 *
 * <p>A listing is a chain of round trips, each waiting for the last: the reader's getdents64, the
 * request, this server's getdents64 on the source (for a big ext4 directory most of the server's
 * time), the reply. So after a reply that filled up, the serving thread reads the next dirents ahead
 * ({@link #readAhead}) while the kernel copies the reply out and the reader works through it.
 */
final class Directories {
    private static final int SEEK_SET = 0;
    /** A dirent64 of the longest name: 19 bytes, 255 and a NUL, aligned to 8. */
    private static final int LONGEST_DIRENT = 280;
    /** The least getdents64 buffer: room for several of the longest dirents. */
    private static final int MIN_DIRENTS = 1024;
    /** Read ahead about what a READDIRPLUS of 256 KiB (the st_blksize directories show) lists without attributes. */
    private static final int READ_AHEAD = Attributes.DIRECTORY_BLKSIZE / 5;

    private final Lookups lookups;
    private final ListingPolicy policy;
    private final ReadAheadBuffers buffers = new ReadAheadBuffers();
    private final FileCalls calls = FileCalls.get();
    private final MemoryIO memory = MemoryIO.getInstance();
    /** Open directories by their fd (the fh). */
    private final Map<Integer, OpenDirectory> open = new ConcurrentHashMap<>();

    Directories(Lookups lookups, ListingPolicy policy) {
        this.lookups = lookups;
        this.policy = policy;
    }

    int open(int nodeFd, RequestBuffers b, long out) {
        int fd = FdLinks.open(nodeFd, Linux.O_RDONLY | Linux.O_DIRECTORY, b);
        if (fd < 0) {
            return fd;
        }
        open.put(fd, new OpenDirectory(fd));
        memory.putLong(out, fd);
        memory.putLong(out + 8, 0);
        return FuseProtocol.OPEN_OUT;
    }

    /**
     * READDIR(PLUS) from the source's own dirents, continuing where the last one stopped. Offsets are
     * the source's d_off cookies: a read from another offset than the last one's end seeks there and
     * drops what was pending. With {@code plus}, entries are looked up too (a node and its attributes
     * in the same reply) as far as {@link ListingPolicy} says for the process {@code pid}; the others
     * carry node id 0. A reply that filled up leaves its directory in {@code b.readAhead}.
     */
    int read(long arg, RequestBuffers b, long out, boolean plus, int pid, long directoryId) {
        OpenDirectory directory = open.get(OpenFiles.fileFd(memory.getLong(arg)));
        if (directory == null) {
            return -Errno.EBADF;
        }
        long offset = memory.getLong(arg + 8);
        int size = Math.min(memory.getInt(arg + 16), FuseProtocol.MAX_WRITE);
        synchronized (directory) {
            if (directory.released) {
                return -Errno.EBADF;
            }
            if (directory.offset != offset) {
                long moved = calls.lseek(directory.fd, offset, SEEK_SET);
                if (moved < 0) {
                    return (int) moved;
                }
                directory.offset = offset;
                dropPending(directory);
            }
            return fill(directory, b, out, size, plus, pid, directoryId);
        }
    }

    /** Under the directory's monitor: the reply's entries from its pending dirents, then from the source. */
    private int fill(OpenDirectory directory, RequestBuffers b, long out, int size, boolean plus, int pid, long directoryId) {
        boolean decided = false;
        boolean withAttributes = false;
        int filled = 0;
        boolean bare = false;
        try {
            while (true) {
                long chunk;
                long chunkEnd;
                if (directory.hasPending()) {
                    chunk = directory.pending + directory.start;
                    chunkEnd = directory.pending + directory.end;
                } else {
                    // Only about as many dirents as the reply has room for: the rest wait as pending.
                    int count = direntsFor(size - filled, plus);
                    long read = calls.getdents64(directory.fd, b.dirents, count);
                    if (read <= 0) {
                        return filled > 0 || read == 0 ? filled : (int) read;
                    }
                    chunk = b.dirents;
                    chunkEnd = b.dirents + read;
                    if (plus && !decided && directory.offset == 0) {
                        // A new listing. Room left for another dirent: this read reached the end, the directory is all here.
                        int whole = read + LONGEST_DIRENT <= count ? direntCount(chunk, read) : -1;
                        directory.withAttributes = policy.withAttributes(pid, whole);
                    }
                }
                if (plus && !decided) {
                    decided = true;
                    withAttributes = directory.withAttributes || policy.withAttributes(pid, -1);
                }
                for (long at = chunk; at < chunkEnd; at += memory.getShort(at + 16) & 0xFFFF) {
                    long name = at + 19;
                    int nameLength = nameLength(name, memory.getShort(at + 16) & 0xFFFF);
                    int direntLength = (24 + nameLength + 7) & ~7;
                    int need = plus ? FuseProtocol.ENTRY_OUT + direntLength : direntLength;
                    if (filled + need > size) {
                        keepPending(directory, chunk, at, chunkEnd);
                        b.readAhead = directory;
                        return filled;
                    }
                    long entry = out + filled;
                    if (plus) {
                        if (!withAttributes || Lookups.isDotOrDotDot(name)) {
                            // No node: the kernel looks the name up if it needs more (and skips . and ..).
                            memory.setMemory(entry, FuseProtocol.ENTRY_OUT, (byte) 0);
                            bare |= !withAttributes;
                        } else if (lookups.lookup(directory.fd, name, b, entry) < 0) {
                            directory.offset = memory.getLong(at + 8);
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
                    directory.offset = next;
                }
                if (chunk != b.dirents) {
                    dropPending(directory);  // all sent
                }
            }
        } finally {
            if (bare) {
                policy.listedBare(pid, directoryId);
            }
        }
    }

    /**
     * The dirents [at, chunkEnd) of a read that did not fit the reply: kept pending (in a read-ahead
     * buffer if they came from the thread's own), or, with no buffer free, read again next time.
     */
    private void keepPending(OpenDirectory directory, long chunk, long at, long chunkEnd) {
        if (directory.pending != 0 && chunk == directory.pending + directory.start) {
            directory.start = (int) (at - directory.pending);
            return;
        }
        if (directory.pending == 0) {
            directory.pending = buffers.take();
        }
        if (directory.pending == 0) {
            calls.lseek(directory.fd, directory.offset, SEEK_SET);
            return;
        }
        int length = (int) (chunkEnd - at);
        memory.copyMemory(at, directory.pending, length);
        directory.start = 0;
        directory.end = length;
    }

    /** No dirents pending: its buffer goes back for other directories. */
    private void dropPending(OpenDirectory directory) {
        directory.start = 0;
        directory.end = 0;
        if (directory.pending != 0) {
            buffers.give(directory.pending);
            directory.pending = 0;
        }
    }

    /**
     * After the reply of a read that filled up ({@code b.readAhead}): reads the next dirents into the
     * directory's pending ones, up to about what the next reply takes, while the kernel and the
     * reader are busy with this one. Nothing if the directory has no buffer or was released meanwhile.
     */
    void readAhead(RequestBuffers b) {
        OpenDirectory directory = b.readAhead;
        b.readAhead = null;
        synchronized (directory) {
            if (directory.released || directory.pending == 0 || directory.end - directory.start >= READ_AHEAD) {
                return;
            }
            if (directory.start > 0) {
                memory.copyMemory(directory.pending + directory.start, directory.pending, directory.end - directory.start);
                directory.end -= directory.start;
                directory.start = 0;
            }
            int room = Math.min(ReadAheadBuffers.SIZE, READ_AHEAD) - directory.end;
            if (room < MIN_DIRENTS) {
                return;
            }
            long read = calls.getdents64(directory.fd, directory.pending + directory.end, room);
            if (read > 0) {
                directory.end += (int) read;
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
        OpenDirectory directory = open.remove(fd);
        if (directory == null) {
            return -Errno.EBADF;
        }
        synchronized (directory) {
            directory.released = true;
            dropPending(directory);
            return calls.close(fd);
        }
    }
}
