package dev.idshift.backend.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.kenai.jffi.MemoryIO;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.sys.Errno;
import dev.idshift.sys.Linux;
import dev.idshift.sys.Syscalls;
import dev.idshift.sys.credentials.Credentials;
import dev.idshift.sys.files.FileSyscalls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FUSE server's filesystem driven with requests as the kernel writes them, without a mount:
 * nodes follow inodes (hard links are one node), lookups never leave the source, names are bytes,
 * owners are shown shifted, FORGET lets a node go.
 */
class ShiftingNodesTest {
    private static final long ROOT = FuseProtocol.ROOT_ID;

    @TempDir
    Path temp;
    private Path source;
    private int rootFd = -1;
    private ShiftingNodes nodes;
    private final RequestBuffers buffers = new RequestBuffers();
    private final RequestWriter writer = new RequestWriter(buffers);
    private final MemoryIO memory = MemoryIO.getInstance();

    @BeforeEach
    void setUp() throws Exception {
        source = Files.createDirectories(temp.resolve("source"));
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "host file");
        Files.writeString(source.resolve("inside"), "ok");
        Files.createLink(source.resolve("hard"), source.resolve("inside"));
        Files.createSymbolicLink(source.resolve("up"), Path.of("../outside"));
        Files.createDirectories(source.resolve("dir"));
        rootFd = FileSyscalls.get().openat2(Linux.AT_FDCWD, source.toString(), Linux.O_PATH | Linux.O_DIRECTORY, 0, "source");
        nodes = withFdBudget(-1);
    }

    private ShiftingNodes withFdBudget(long budget) {
        return FuseSession.nodesOf(rootFd, new IdTranslation(IdMapParser.parseColonList("0:100000:65536"),
                IdMapParser.parseColonList("0:100000:65536")), budget);
    }

    @AfterEach
    void tearDown() {
        Syscalls.get().close(rootFd);
    }

    private long out(int offset) {
        return buffers.reply + FuseProtocol.OUT_HEADER + offset;
    }

    /** LOOKUP: the node id, or minus an errno. */
    private long lookup(long parent, String name) {
        writer.request(FuseProtocol.LOOKUP, parent, 0, 0).name(name);
        int result = nodes.handle(buffers, -1);
        return result < 0 ? result : memory.getLong(out(0));
    }

    @Test
    void hardLinksAreOneNodeAndForgetLetsItGo() {
        long inside = lookup(ROOT, "inside");
        long hard = lookup(ROOT, "hard");
        assertTrue(inside > ROOT);
        assertEquals(inside, hard, "both names of one inode are one node (one kernel inode)");
        assertEquals(2, memory.getInt(out(40 + 64)), "nlink");
        writer.request(FuseProtocol.FORGET, inside, 0, 0).u64(2);
        assertEquals(ShiftingNodes.NO_REPLY, nodes.handle(buffers, -1));
        writer.request(FuseProtocol.GETATTR, inside, 0, 0).u32(0).u32(0).u64(0);
        assertEquals(-Errno.ESTALE, nodes.handle(buffers, -1), "forgotten after both lookups were taken back");
        assertNotEquals(inside, lookup(ROOT, "inside"), "a new node id after the old one was forgotten");
    }

    @Test
    void pastTheFdBudgetNodesKeepFileHandlesAndStillFollowInodes() throws Exception {
        nodes = withFdBudget(0);
        long inside = lookup(ROOT, "inside");
        assertEquals(inside, lookup(ROOT, "hard"), "one node for both names, by handle");
        Files.move(source.resolve("inside"), source.resolve("dir/moved"));
        writer.request(FuseProtocol.GETATTR, inside, 0, 0).u32(0).u32(0).u64(0);
        assertEquals(FuseProtocol.ATTR_OUT, nodes.handle(buffers, -1), "the inode, wherever its names went");
        assertEquals(2, memory.getInt(out(16 + 64)), "nlink");
        Files.delete(source.resolve("dir/moved"));
        Files.delete(source.resolve("hard"));
        writer.request(FuseProtocol.GETATTR, inside, 0, 0).u32(0).u32(0).u64(0);
        assertEquals(-Errno.ESTALE, nodes.handle(buffers, -1), "a handle-only node of a deleted file is stale");
    }

    private int getattr(long node) {
        writer.request(FuseProtocol.GETATTR, node, 0, 0).u32(0).u32(0).u64(0);
        return nodes.handle(buffers, -1);
    }

    private static long openFds() throws Exception {
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void pastTheFdBudgetWithoutFileHandlesNodesAreFoundAgainByName() throws Exception {
        nodes = FuseSession.nodesOf(rootFd, new IdTranslation(IdMapParser.parseColonList("0:100000:65536"),
                IdMapParser.parseColonList("0:100000:65536")), 1, false);
        Files.createDirectories(source.resolve("dir/a/b"));
        Files.writeString(source.resolve("dir/a/b/file"), "deep");
        for (int i = 0; i < 300; i++) {
            Files.createFile(source.resolve("dir/f" + i));
        }
        long dir = lookup(ROOT, "dir");  // the budget's one fd
        long a = lookup(dir, "a");
        long b = lookup(a, "b");
        long file = lookup(b, "file");
        assertEquals(FuseProtocol.ATTR_OUT, getattr(file), "opened again through its placed parents");
        assertEquals(4, memory.getLong(out(16 + 8)), "the file's size");
        assertEquals(lookup(ROOT, "inside"), lookup(ROOT, "hard"), "hard links: still one node");

        long before = openFds();
        for (int i = 0; i < 300; i++) {
            assertTrue(lookup(dir, "f" + i) > ROOT);
        }
        assertEquals(before, openFds(), "300 more nodes, no more fds");

        writer.request(FuseProtocol.FORGET, a, 0, 0).u64(1);
        nodes.handle(buffers, -1);
        assertEquals(FuseProtocol.ATTR_OUT, getattr(file), "a forgotten parent stays while a placed child needs it");

        writer.request(FuseProtocol.RENAME, a, 0, 0).u64(dir).name("b").name("b2");
        assertEquals(0, nodes.handle(buffers, -1));
        assertTrue(Files.exists(source.resolve("dir/b2/file")));
        assertEquals(FuseProtocol.ATTR_OUT, getattr(file), "after a rename through the mount, found by the new name");

        Files.move(source.resolve("dir/b2/file"), source.resolve("dir/b2/elsewhere"));
        assertEquals(-Errno.ESTALE, getattr(file), "renamed behind the server's back: stale");
        Files.writeString(source.resolve("dir/b2/file"), "another inode");
        assertEquals(-Errno.ESTALE, getattr(file), "its old name now another inode's: still stale, never that inode");
        assertEquals(file, lookup(lookup(dir, "b2"), "elsewhere"), "looked up by its new name: the same node");
        assertEquals(FuseProtocol.ATTR_OUT, getattr(file), "and found by that name from then on");
    }

    @Test
    void newEntriesGetTheCallersOnDiskIdsAndCreateNeverTakesOverAnExistingFile() throws Exception {
        long caller = 100000 + 1234;  // host uid of on-disk 1234
        writer.request(FuseProtocol.MKDIR, ROOT, caller, caller).u32(0755).u32(022).name("made");
        assertEquals(FuseProtocol.ENTRY_OUT, nodes.handle(buffers, -1));
        assertEquals(caller, Integer.toUnsignedLong(memory.getInt(out(40 + 68))), "shown as the caller");
        assertEquals(1234, Files.getAttribute(source.resolve("made"), "unix:uid"), "stored as the caller's on-disk id");
        assertEquals(0755, (int) Files.getAttribute(source.resolve("made"), "unix:mode") & 07777);

        // CREATE of a name the source has by now (made behind the kernel's back): not opened (the kernel would
        // take it as the caller's new file and check nothing), ESTALE so the VFS looks it up again; owner unchanged.
        Object ownerBefore = Files.getAttribute(source.resolve("inside"), "unix:uid");
        writer.request(FuseProtocol.CREATE, ROOT, caller, caller).u32(Linux.O_RDWR | Linux.O_CREAT).u32(0644).u32(022).u32(0)
                .name("inside");
        assertEquals(-Errno.ESTALE, nodes.handle(buffers, -1));
        assertEquals(ownerBefore, Files.getAttribute(source.resolve("inside"), "unix:uid"), "not chowned to the caller");
        writer.request(FuseProtocol.CREATE, ROOT, caller, caller).u32(Linux.O_RDWR | Linux.O_CREAT | Linux.O_EXCL).u32(0644)
                .u32(022).u32(0).name("inside");
        assertEquals(-Errno.EEXIST, nodes.handle(buffers, -1), "O_EXCL asked: EEXIST");

        long unmapped = 70000;  // a host id with no on-disk id
        writer.request(FuseProtocol.MKDIR, ROOT, unmapped, unmapped).u32(0755).u32(022).name("refused");
        assertEquals(-Errno.EOVERFLOW, nodes.handle(buffers, -1));
    }

    @Test
    void createOwnsTheOpenedFileKeepsSetuidAndTheSetgidDirectorysGroupAndAnswersItsInode() throws Exception {
        long caller = 100000 + 1234;
        writer.request(FuseProtocol.CREATE, ROOT, caller, caller).u32(Linux.O_RDWR | Linux.O_CREAT).u32(0106755).u32(022).u32(0)
                .name("tool");
        int length = nodes.handle(buffers, -1);
        assertEquals(FuseProtocol.ENTRY_OUT + FuseProtocol.OPEN_OUT, length);
        assertEquals(1234, Files.getAttribute(source.resolve("tool"), "unix:uid"), "stored as the caller's on-disk id");
        assertEquals(1234, Files.getAttribute(source.resolve("tool"), "unix:gid"));
        assertEquals(06755, modeOf("tool"), "setuid and setgid put back after the chown cleared them");
        assertEquals(caller, Integer.toUnsignedLong(memory.getInt(out(40 + 68))), "shown as the caller");
        assertEquals(06755 | 0100000, memory.getInt(out(40 + 60)), "the answer's mode is the final one");
        long created = memory.getLong(out(0));
        assertEquals(created, lookup(ROOT, "tool"), "the node is the created inode");
        int fd = OpenFiles.fileFd(memory.getLong(out(FuseProtocol.ENTRY_OUT)));
        Syscalls.get().close(fd);

        Path shared = Files.createDirectories(source.resolve("shared"));
        Files.setAttribute(shared, "unix:gid", 4321);
        Files.setAttribute(shared, "unix:mode", 02777);
        long sharedNode = lookup(ROOT, "shared");
        writer.request(FuseProtocol.CREATE, sharedNode, caller, caller).u32(Linux.O_RDWR | Linux.O_CREAT).u32(0100644).u32(022)
                .u32(0).name("note");
        assertEquals(FuseProtocol.ENTRY_OUT + FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        Syscalls.get().close(OpenFiles.fileFd(memory.getLong(out(FuseProtocol.ENTRY_OUT))));
        assertEquals(1234, Files.getAttribute(shared.resolve("note"), "unix:uid"));
        assertEquals(4321, Files.getAttribute(shared.resolve("note"), "unix:gid"), "a setgid directory's group kept");
        assertEquals(0644, modeOf("shared/note"));
    }

    /** GETXATTR of {@code name} into a reply of up to 64 bytes: the value, or null (the errno in {@code errno[0]}). */
    private String getxattr(long node, String name, int[] errno) {
        writer.request(FuseProtocol.GETXATTR, node, 0, 0).u32(64).u32(0).name(name);
        int length = nodes.handle(buffers, -1);
        if (length < 0) {
            errno[0] = -length;
            return null;
        }
        byte[] value = new byte[length];
        memory.getByteArray(out(0), value, 0, length);
        return new String(value, StandardCharsets.US_ASCII);
    }

    private static void note(Path file, String value) throws Exception {
        Files.getFileAttributeView(file, java.nio.file.attribute.UserDefinedFileAttributeView.class)
                .write("note", java.nio.ByteBuffer.wrap(value.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void xattrsAreReadThroughAnOpenFileWhileThereIsOneAndNeverThroughItsFdOnceReleased() throws Exception {
        long first = fileWithMode("first", 0644);
        note(source.resolve("first"), "one");
        int[] errno = new int[1];
        assertEquals("one", getxattr(first, "user.note", errno), "by the node's /proc link");
        writer.request(FuseProtocol.OPEN, first, 0, 0).u32(Linux.O_WRONLY).u32(0);
        assertEquals(FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        long fh = memory.getLong(out(0));
        assertEquals("one", getxattr(first, "user.note", errno), "by the open file's fd");
        assertEquals(null, getxattr(first, "security.capability", errno));
        assertEquals(Errno.ENODATA, errno[0]);
        writer.request(FuseProtocol.LISTXATTR, first, 0, 0).u32(0).u32(0);
        assertEquals(8, nodes.handle(buffers, -1));
        assertEquals("user.note".length() + 1, memory.getInt(out(0)), "listed by the open file's fd");

        // The released fd's number goes to another file's open: the first node must not read through it.
        long second = fileWithMode("second", 0644);
        note(source.resolve("second"), "two");
        writer.request(FuseProtocol.RELEASE, first, 0, 0).u64(fh).u32(0).u32(0).u64(0);
        assertEquals(0, nodes.handle(buffers, -1));
        writer.request(FuseProtocol.OPEN, second, 0, 0).u32(Linux.O_RDONLY).u32(0);
        assertEquals(FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        long secondFh = memory.getLong(out(0));
        assertEquals(OpenFiles.fileFd(fh), OpenFiles.fileFd(secondFh), "the lowest free fd: the one released");
        assertEquals("one", getxattr(first, "user.note", errno), "the first node's own inode");
        assertEquals("two", getxattr(second, "user.note", errno));
        writer.request(FuseProtocol.RELEASE, second, 0, 0).u64(secondFh).u32(0).u32(0).u64(0);
        assertEquals(0, nodes.handle(buffers, -1));
    }

    /** A file of mode {@code perm} (07777 bits) under the source, looked up: its node. */
    private long fileWithMode(String name, int perm) throws Exception {
        Files.writeString(source.resolve(name), "data");
        Files.setAttribute(source.resolve(name), "unix:mode", perm);
        return lookup(ROOT, name);
    }

    private int modeOf(String name) throws Exception {
        return (int) Files.getAttribute(source.resolve(name), "unix:mode") & 07777;
    }

    /** SETATTR of the size alone, with or without FATTR_KILL_SUIDGID. */
    private int truncate(long node, boolean kill) {
        int valid = FuseProtocol.FATTR_SIZE | (kill ? FuseProtocol.FATTR_KILL_SUIDGID : 0);
        writer.request(FuseProtocol.SETATTR, node, 0, 0).u32(valid).u32(0).u64(0).u64(1).u64(0).u64(0).u64(0).u64(0)
                .u32(0).u32(0).u32(0).u32(0).u32(0).u32(0).u32(0).u32(0);
        return nodes.handle(buffers, -1);
    }

    @Test
    void whereTheKernelSaysTheCallerCannotKeepThemSetuidAndGroupExecutableSetgidGo() throws Exception {
        // HANDLE_KILLPRIV_V2: truncate by a caller without CAP_FSETID
        assertEquals(FuseProtocol.ATTR_OUT, truncate(fileWithMode("su", 04755), true));
        assertEquals(0755, modeOf("su"));
        assertEquals(FuseProtocol.ATTR_OUT, truncate(fileWithMode("sg", 06711), true));
        assertEquals(0711, modeOf("sg"));
        assertEquals(FuseProtocol.ATTR_OUT, truncate(fileWithMode("lock", 02745), true));
        assertEquals(02745, modeOf("lock"), "setgid without group execute is a locking mark: kept");
        assertEquals(FuseProtocol.ATTR_OUT, truncate(fileWithMode("kept", 06755), false));
        assertEquals(06755, modeOf("kept"), "a caller with CAP_FSETID keeps them (no kill flag)");

        // a write through the server (no passthrough) with FUSE_WRITE_KILL_SUIDGID
        long written = fileWithMode("w", 06755);
        writer.request(FuseProtocol.OPEN, written, 0, 0).u32(Linux.O_WRONLY).u32(0);
        assertEquals(FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        long fh = memory.getLong(out(0));
        assertEquals(06755, modeOf("w"), "opening alone changes nothing");
        writer.request(FuseProtocol.WRITE, written, 0, 0).u64(fh).u64(0).u32(1).u32(FuseProtocol.WRITE_KILL_SUIDGID).u64(0)
                .u32(0).u32(0).name("x");
        assertEquals(8, nodes.handle(buffers, -1));
        assertEquals(0755, modeOf("w"));
        writer.request(FuseProtocol.RELEASE, written, 0, 0).u64(fh).u32(0).u32(0).u64(0);
        assertEquals(0, nodes.handle(buffers, -1));

        // a truncating open (FUSE_OPEN_KILL_SUIDGID, sent with O_TRUNC where the kernel passes O_TRUNC on)
        long truncated = fileWithMode("t", 04755);
        writer.request(FuseProtocol.OPEN, truncated, 0, 0).u32(Linux.O_WRONLY | Linux.O_TRUNC).u32(FuseProtocol.OPEN_KILL_SUIDGID);
        assertEquals(FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        assertEquals(0755, modeOf("t"));
        assertEquals(0L, Files.size(source.resolve("t")));
        writer.request(FuseProtocol.RELEASE, truncated, 0, 0).u64(memory.getLong(out(0))).u32(0).u32(0).u64(0);
        assertEquals(0, nodes.handle(buffers, -1));
    }

    /** An access ACL without named entries (user rwx, group r-x, mask r-x, other r-x): nothing to translate. */
    private static byte[] accessAcl() {
        java.nio.ByteBuffer acl = java.nio.ByteBuffer.allocate(4 + 4 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        acl.putInt(2);
        int[][] entries = {{0x01, 7}, {0x04, 5}, {0x10, 5}, {0x20, 5}};
        for (int[] entry : entries) {
            acl.putShort((short) entry[0]).putShort((short) entry[1]).putInt(-1);
        }
        return acl.array();
    }

    /** SETXATTR of an access ACL: fuse_setxattr_in in its 16-byte form (SETXATTR_EXT) or the 8-byte one. */
    private int setAccessAcl(long node, boolean extended, int setxattrFlags) {
        byte[] acl = accessAcl();
        RequestWriter.Arguments request = writer.request(FuseProtocol.SETXATTR, node, 0, 0).u32(acl.length).u32(0);
        if (extended) {
            request.u32(setxattrFlags).u32(0);
        }
        request.name(XattrIds.ACL_ACCESS).bytes(acl);
        return nodes.handle(buffers, -1);
    }

    @Test
    void anAccessAclWrittenForACallerWhoCannotKeepSetgidClearsIt() throws Exception {
        // This test runs with CAP_FSETID, so the source's kernel itself keeps setgid: only the flag clears it.
        assertEquals(0, setAccessAcl(fileWithMode("compat", 02755), false, 0));
        assertEquals(02755, modeOf("compat"), "before INIT: the 8-byte form, the name right after it");

        nodes.setxattrExt(true);
        assertEquals(0, setAccessAcl(fileWithMode("kept", 02755), true, 0));
        assertEquals(02755, modeOf("kept"), "a caller in the group or with CAP_FSETID (no flag) keeps it");
        assertEquals(0, setAccessAcl(fileWithMode("killed", 02755), true, FuseProtocol.SETXATTR_ACL_KILL_SGID));
        assertEquals(0755, modeOf("killed"));
        assertEquals(0, setAccessAcl(fileWithMode("lock", 02745), true, FuseProtocol.SETXATTR_ACL_KILL_SGID));
        assertEquals(0755, modeOf("lock"), "whatever the group may execute, as posix_acl_update_mode (mode from the ACL)");
        assertEquals(0, setAccessAcl(fileWithMode("setuid", 04755), true, FuseProtocol.SETXATTR_ACL_KILL_SGID));
        assertEquals(04755, modeOf("setuid"), "setuid is not the ACL's business");
    }

    @Test
    void lookupsNeverLeaveTheSource() {
        long up = lookup(ROOT, "up");
        assertTrue(up > ROOT, "the symlink itself is a node");
        assertEquals(-Errno.ENOTDIR, lookup(up, "secret"), "a lookup under a symlink does not follow it");
        assertEquals(-Errno.ENOENT, lookup(ROOT, ".."), ".. is refused");
        assertEquals(-Errno.ENOENT, lookup(lookup(ROOT, "dir"), ".."), ".. is refused below the root too");
    }

    @Test
    void ownersAreShownShiftedAndNamesAreBytes() throws Exception {
        long inside = lookup(ROOT, "inside");
        writer.request(FuseProtocol.GETATTR, inside, 0, 0).u32(0).u32(0).u64(0);
        assertEquals(FuseProtocol.ATTR_OUT, nodes.handle(buffers, -1));
        long uid = Integer.toUnsignedLong(memory.getInt(out(16 + 68)));
        assertEquals(100000 + Credentials.get().geteuid(), uid);

        byte[] notUtf8 = {'n', (byte) 0xff};
        writer.request(FuseProtocol.LOOKUP, ROOT, 0, 0).bytes(notUtf8);
        assertEquals(-Errno.ENOENT, nodes.handle(buffers, -1));
        Files.writeString(source.resolve(new String(notUtf8, StandardCharsets.ISO_8859_1)), "x");
        // The JVM's file name encoding may differ from the raw bytes: list what it made, look that up as bytes.
        try (var names = Files.list(source)) {
            String made = names.map(path -> path.getFileName().toString()).filter(name -> name.startsWith("n")).findFirst()
                    .orElseThrow();
            writer.request(FuseProtocol.LOOKUP, ROOT, 0, 0).bytes(made.getBytes(System.getProperty("sun.jnu.encoding") == null
                    ? StandardCharsets.UTF_8 : java.nio.charset.Charset.forName(System.getProperty("sun.jnu.encoding"))));
            assertEquals(FuseProtocol.ENTRY_OUT, nodes.handle(buffers, -1));
        }
    }

    @Test
    void readdirplusListsEveryEntryWithItsNode() {
        java.util.Map<String, Boolean> listed = list(ROOT, 300);
        assertEquals(java.util.Set.of(".", "..", "dir", "hard", "inside", "up"), listed.keySet());
        listed.forEach((name, node) -> assertEquals(!name.equals(".") && !name.equals(".."), node, "a node for " + name));
    }

    @Test
    void listingsCarryAttributesForProcessesThatStatWhatTheyList() throws Exception {
        Path big = Files.createDirectories(source.resolve("big"));
        java.util.Set<String> made = new java.util.TreeSet<>(java.util.List.of(".", ".."));
        for (int i = 0; i < 300; i++) {
            String name = "f" + i + "-".repeat(i % 19);  // names of every length mod 8, and one of 255 bytes
            name = i == 299 ? name + "x".repeat(255 - name.length()) : name;
            Files.writeString(big.resolve(name), "");
            made.add(name);
        }
        long bigNode = lookup(ROOT, "big");
        writer.from(7);
        java.util.Map<String, Boolean> first = list(bigNode, 4096);
        assertEquals(made, first.keySet());
        assertEquals(0, nodesIn(first), "a big directory is listed with names only");
        // Process 7 looks up names it was listed without attributes: it stats what it lists.
        first.entrySet().stream().filter(entry -> !entry.getValue() && entry.getKey().startsWith("f"))
                .limit(ListingPolicy.WALK_LOOKUPS).forEach(entry -> assertTrue(lookup(bigNode, entry.getKey()) > ROOT));
        assertEquals(300, nodesIn(list(bigNode, 4096)), "its next listings carry attributes for every entry");
        writer.from(8);
        assertEquals(0, nodesIn(list(bigNode, 4096)), "another process's are not");
    }

    @Test
    void aSmallDirectoryIsListedWithAttributesWhole() throws Exception {
        Path small = Files.createDirectories(source.resolve("small"));
        for (int i = 0; i < ListingPolicy.SMALL_DIRECTORY - 2; i++) {
            Files.writeString(small.resolve("f" + i), "");
        }
        writer.from(9);
        // A reply with room for all of it: its first read of dirents reaches the end.
        assertEquals(ListingPolicy.SMALL_DIRECTORY - 2, nodesIn(list(lookup(ROOT, "small"), 256 * 1024)));
    }

    @Test
    void aListingReadFromAnEarlierOffsetAgainListsTheSameRest() throws Exception {
        Path many = Files.createDirectories(source.resolve("many"));
        for (int i = 0; i < 2000; i++) {
            Files.writeString(many.resolve("name-" + i), "");
        }
        long manyNode = lookup(ROOT, "many");
        writer.request(FuseProtocol.OPENDIR, manyNode, 0, 0).u32(0).u32(0);
        assertEquals(FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        long directory = memory.getLong(out(0));
        // Small replies, each followed by a read ahead, part of the way; then a seekdir back to the
        // cookie the first reply ended on, and on to the end from there.
        java.util.List<String> first = new java.util.ArrayList<>();
        long cookie = readdirplus(manyNode, directory, 0, 4096, first);
        int firstReply = first.size();
        long offset = cookie;
        for (int reply = 1; reply < 6; reply++) {
            offset = readdirplus(manyNode, directory, offset, 4096, first);
        }
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (long at = cookie, next; (next = readdirplus(manyNode, directory, at, 8192, rest)) != at; ) {
            at = next;
        }
        assertEquals(first.subList(firstReply, first.size()), rest.subList(0, first.size() - firstReply),
                "the same entries in the same order after the seek back");
        java.util.List<String> all = new java.util.ArrayList<>(first.subList(0, firstReply));
        all.addAll(rest);
        assertEquals(2002, all.size(), "every name once, with . and ..");
        assertEquals(2002, new java.util.HashSet<>(all).size());
        writer.request(FuseProtocol.RELEASEDIR, manyNode, 0, 0).u64(directory);
        assertEquals(0, nodes.handle(buffers, -1));
    }

    /** One READDIRPLUS (then the read-ahead after it): its names appended to {@code names}; the last entry's cookie, or {@code offset} if none. */
    private long readdirplus(long directoryNode, long directory, long offset, int size, java.util.List<String> names) {
        writer.request(FuseProtocol.READDIRPLUS, directoryNode, 0, 0).u64(directory).u64(offset).u32(size);
        int length = nodes.handle(buffers, -1);
        assertTrue(length >= 0, "readdirplus: " + length);
        nodes.afterReply(buffers);
        for (int at = 0; at < length; ) {
            long dirent = out(at) + FuseProtocol.ENTRY_OUT;
            int nameLength = memory.getInt(dirent + 16);
            byte[] name = new byte[nameLength];
            memory.getByteArray(dirent + 24, name, 0, nameLength);
            names.add(new String(name, StandardCharsets.UTF_8));
            offset = memory.getLong(dirent + 8);
            at += FuseProtocol.ENTRY_OUT + ((24 + nameLength + 7) & ~7);
        }
        return offset;
    }

    private static long nodesIn(java.util.Map<String, Boolean> listed) {
        return listed.values().stream().filter(node -> node).count();
    }

    /** OPENDIR, READDIRPLUS of {@code size} bytes until the end, RELEASEDIR: each name, and whether it came with a node. */
    private java.util.Map<String, Boolean> list(long directoryNode, int size) {
        writer.request(FuseProtocol.OPENDIR, directoryNode, 0, 0).u32(0).u32(0);
        assertEquals(FuseProtocol.OPEN_OUT, nodes.handle(buffers, -1));
        long directory = memory.getLong(out(0));
        java.util.Map<String, Boolean> listed = new java.util.TreeMap<>();
        long offset = 0;
        while (true) {
            // Entries continue from the offset where the last reply stopped.
            writer.request(FuseProtocol.READDIRPLUS, directoryNode, 0, 0).u64(directory).u64(offset).u32(size);
            int length = nodes.handle(buffers, -1);
            assertTrue(length >= 0, "readdirplus: " + length);
            nodes.afterReply(buffers);  // as the serving loop does: the next dirents read ahead
            if (length == 0) {
                break;
            }
            for (int at = 0; at < length; ) {
                long entry = out(at);
                long dirent = entry + FuseProtocol.ENTRY_OUT;
                int nameLength = memory.getInt(dirent + 16);
                byte[] name = new byte[nameLength];
                memory.getByteArray(dirent + 24, name, 0, nameLength);
                String text = new String(name, StandardCharsets.UTF_8);
                assertEquals(null, listed.put(text, memory.getLong(entry) != 0), "listed once: " + text);
                offset = memory.getLong(dirent + 8);
                at += FuseProtocol.ENTRY_OUT + ((24 + nameLength + 7) & ~7);
            }
        }
        writer.request(FuseProtocol.RELEASEDIR, directoryNode, 0, 0).u64(directory);
        assertEquals(0, nodes.handle(buffers, -1));
        return listed;
    }
}
