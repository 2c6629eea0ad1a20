package dev.idshift.marks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** MarkSafety's judgement from faked attributes: mode bits, ACLs, groups that are or are not root's alone. */
class MarkSafetyTest {
    private static final Path MARK = Path.of("/srv/closed/mark");

    /** A fake filesystem: / and /srv 0755, /srv/closed as given, the mark 0755; group 0 root-only unless told. */
    private static final class Fake implements MarkSafety.Inspector {
        final Map<Path, MarkSafety.Node> nodes = new HashMap<>();
        Set<Long> rootOnly = Set.of(0L);

        Fake(MarkSafety.Node closed) {
            nodes.put(Path.of("/"), node(0755, null));
            nodes.put(Path.of("/srv"), node(0755, null));
            nodes.put(Path.of("/srv/closed"), closed);
            nodes.put(MARK, node(0755, null));
        }

        @Override
        public MarkSafety.Node inspect(Path path) throws IOException {
            MarkSafety.Node node = nodes.get(path);
            if (node == null) {
                throw new IOException("no such file");
            }
            return node;
        }

        @Override
        public boolean rootOnlyGroup(long gid) {
            return rootOnly.contains(gid);
        }
    }

    private static MarkSafety.Node node(int mode, PosixAcl acl) {
        return new MarkSafety.Node(0, 0, mode, acl);
    }

    /** The xattr bytes `setfacl` would store: entries as {tag, perm, id}. */
    static byte[] aclBytes(int[][] entries) {
        ByteBuffer buffer = ByteBuffer.allocate(4 + 8 * entries.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(2);
        for (int[] entry : entries) {
            buffer.putShort((short) entry[0]).putShort((short) entry[1]).putInt(entry[2]);
        }
        return buffer.array();
    }

    private static PosixAcl acl(int[]... entries) {
        return PosixAcl.parse(aclBytes(entries), "test");
    }

    private static final int[] OWNER_RWX = {PosixAcl.USER_OBJ, 7, -1};
    private static final int[] GROUP_NONE = {PosixAcl.GROUP_OBJ, 0, -1};
    private static final int[] OTHER_NONE = {PosixAcl.OTHER, 0, -1};

    private static List<String> problems(Fake fake) {
        return MarkSafety.problems(MARK, fake);
    }

    /** Whoever may mount the mark owns its root through the mount, and could chmod it open. */
    @Test
    void theMarksOwnModeDoesNotCloseIt() {
        Fake fake = new Fake(node(0755, null));
        fake.nodes.put(MARK, node(0700, null));
        List<String> problems = problems(fake);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("unprivileged users can traverse every directory down to " + MARK), problems.toString());
    }

    @Test
    void aClosedAncestorWithoutAclIsSafe() {
        assertEquals(List.of(), problems(new Fake(node(0700, null))));
    }

    @Test
    void anAclGrantingSearchToOneUserOpensTheTree() {
        // chmod 0700 + setfacl -m u:1000:x: the kernel shows mode 0710 (the mask) and stores the entry.
        Fake fake = new Fake(node(0710, acl(OWNER_RWX, new int[] {PosixAcl.USER, 1, 1000}, GROUP_NONE,
                new int[] {PosixAcl.MASK, 1, -1}, OTHER_NONE)));
        List<String> problems = problems(fake);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("can traverse"), problems.toString());
        assertTrue(problems.get(0).endsWith(": /srv/closed is searchable by user 1000 (ACL)"), "names the way in: " + problems);
    }

    @Test
    void theMaskLimitsNamedEntries() {
        // u:1000:rwx, but the mask (setfacl -m m::---) takes everything away from the group class.
        Fake fake = new Fake(node(0700, acl(OWNER_RWX, new int[] {PosixAcl.USER, 7, 1000}, GROUP_NONE,
                new int[] {PosixAcl.MASK, 0, -1}, OTHER_NONE)));
        assertEquals(List.of(), problems(fake));
    }

    @Test
    void namedEntriesForRootAreRoot() {
        Fake fake = new Fake(node(0770, acl(OWNER_RWX, new int[] {PosixAcl.USER, 7, 0}, GROUP_NONE,
                new int[] {PosixAcl.GROUP, 7, 0}, new int[] {PosixAcl.MASK, 7, -1}, OTHER_NONE)));
        assertEquals(List.of(), problems(fake));
    }

    @Test
    void anAclGrantingWriteToAGroupIsAForeignWriter() {
        Fake fake = new Fake(node(0700, null));
        fake.nodes.put(MARK, node(0770, acl(OWNER_RWX, GROUP_NONE, new int[] {PosixAcl.GROUP, 3, 50},
                new int[] {PosixAcl.MASK, 7, -1}, new int[] {PosixAcl.OTHER, 5, -1})));
        List<String> problems = problems(fake);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("writable by group 50 (ACL)"), problems.toString());
    }

    @Test
    void groupZeroCountsLikeAnyGroupUnlessShownRootOnly() {
        Fake fake = new Fake(node(0750, null));
        assertEquals(List.of(), problems(fake), "group 0 with no member but root: closed");
        fake.rootOnly = Set.of();
        assertTrue(problems(fake).get(0).contains("can traverse"), "group 0 with members: open");
        fake.nodes.put(Path.of("/srv/closed"), node(0770, null));
        assertTrue(problems(fake).stream().anyMatch(p -> p.contains("writable by group 0")), problems(fake).toString());
    }

    @Test
    void aStickyAncestorMayBeWritableButTheMarkMayNot() {
        Fake fake = new Fake(node(0700, null));
        fake.nodes.put(Path.of("/srv"), node(01777, null));
        assertEquals(List.of(), problems(fake));
        fake.nodes.put(MARK, node(01777, null));
        assertTrue(problems(fake).stream().anyMatch(p -> p.contains("writable by everyone")), problems(fake).toString());
    }

    @Test
    void aForeignOwnerIsAProblemAndCanTraverse() {
        Fake fake = new Fake(new MarkSafety.Node(1000, 0, 0700, null));
        List<String> problems = problems(fake);
        assertTrue(problems.stream().anyMatch(p -> p.contains("owned by uid 1000")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("can traverse")), "its owner can search it: " + problems);
    }

    @Test
    void aMarkThatNeededForceIsNotReChecked() {
        Mark forced = new Mark("/nonexistent/idshift-test", -1, false, true);
        MarkSafety.requireStillSafe(forced, Path.of("/etc"));
        Refusal refusal = assertThrows(Refusal.class,
                () -> MarkSafety.requireStillSafe(new Mark("/nonexistent/idshift-test", -1, false), Path.of("/etc")));
        assertTrue(refusal.getMessage().startsWith("mark /nonexistent/idshift-test is no longer safe to use: "), refusal.getMessage());
    }

    @Test
    void malformedAclsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PosixAcl.parse(new byte[] {1, 0, 0, 0}, "/x"));
        assertTrue(e.getMessage().startsWith("/x: "), e.getMessage());
    }

    @Test
    void rootOnlyGroupsFromEtc(@TempDir Path etc) throws Exception {
        Files.writeString(etc.resolve("group"), "root:x:0:\nwheel:x:10:root\nstaff:x:50:alice\nadm:x:4:\nmissingpw:x:60:\n");
        Files.writeString(etc.resolve("passwd"), "root:x:0:0::/root:/bin/sh\nbob:x:1001:4::/home/bob:/bin/sh\n");
        RootOnlyGroups groups = RootOnlyGroups.in(etc);
        assertTrue(groups.rootOnly(0));
        assertTrue(groups.rootOnly(10), "root as the only listed member");
        assertEquals(false, groups.rootOnly(50), "alice is a member");
        assertEquals(false, groups.rootOnly(4), "bob's primary group");
        assertEquals(false, groups.rootOnly(99), "not listed: cannot be shown");
        assertEquals(false, RootOnlyGroups.in(etc.resolve("absent")).rootOnly(0), "no /etc/group: nothing is root-only");
    }

    @Test
    void theRealAclOfADirectoryIsRead(@TempDir Path dir) throws Exception {
        if (!"root".equals(System.getProperty("user.name")) || !Files.isExecutable(Path.of("/usr/bin/setfacl"))) {
            return; // the integration tests cover this on the CI machine
        }
        Path closed = Files.createDirectories(dir.resolve("closed"));
        Path mark = Files.createDirectories(closed.resolve("mark"));
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(closed, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assertEquals(List.of(), MarkSafety.problems(mark, Path.of("/etc")));
        Process setfacl = new ProcessBuilder("setfacl", "-m", "u:4242:x", closed.toString()).inheritIO().start();
        assertEquals(0, setfacl.waitFor());
        List<String> problems = MarkSafety.problems(mark, Path.of("/etc"));
        assertTrue(problems.stream().anyMatch(p -> p.contains("can traverse")), problems.toString());
    }
}
