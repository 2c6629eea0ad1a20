package dev.idshift.backend.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.idshift.idmap.IdMapParser;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class XattrIdsTest {
    /** on-disk 0..65535 -> host 100000..165535 */
    private static final IdTranslation SHIFT = new IdTranslation(IdMapParser.parseColonList("0:100000:65536"),
            IdMapParser.parseColonList("0:200000:65536"));

    private static byte[] acl(int... tagPermId) {
        ByteBuffer value = ByteBuffer.allocate(4 + tagPermId.length / 3 * 8).order(ByteOrder.LITTLE_ENDIAN);
        value.putInt(2);
        for (int i = 0; i < tagPermId.length; i += 3) {
            value.putShort((short) tagPermId[i]).putShort((short) tagPermId[i + 1]).putInt(tagPermId[i + 2]);
        }
        return value.array();
    }

    private static byte[] capability(int revision, int rootId) {
        ByteBuffer value = ByteBuffer.allocate(revision == 3 ? 24 : 20).order(ByteOrder.LITTLE_ENDIAN);
        value.putInt(revision << 24 | 1).putInt(0x2000).putInt(0).putInt(0).putInt(0);
        if (revision == 3) {
            value.putInt(rootId);
        }
        return value.array();
    }

    @Test
    void aclUserAndGroupEntriesAreTranslatedOthersKept() throws Exception {
        // USER_OBJ (1), USER 5 (2), GROUP_OBJ (4), GROUP 7 (8), MASK (0x10), OTHER (0x20): -1 ids on the *_OBJ entries
        byte[] onDisk = acl(1, 7, -1, 2, 6, 5, 4, 5, -1, 8, 4, 7, 0x10, 7, -1, 0x20, 5, -1);
        byte[] shown = acl(1, 7, -1, 2, 6, 100005, 4, 5, -1, 8, 4, 200007, 0x10, 7, -1, 0x20, 5, -1);
        assertArrayEquals(shown, XattrIds.toHost(XattrIds.ACL_ACCESS, onDisk, SHIFT));
        assertArrayEquals(onDisk, XattrIds.toDisk(XattrIds.ACL_DEFAULT, shown, SHIFT));
    }

    @Test
    void unmappedAclIdsMatchNoOneAndAreRefusedOnWrite() {
        // Shown as 65534 they granted host uid/gid 65534 the entry's rights; the kernel refuses -1 in
        // an ACL value, so an unmapped entry is left out (an idmapped mount's matches no process either).
        byte[] stray = acl(1, 6, -1, 2, 6, 70000, 4, 4, -1, 8, 6, 70001, 8, 4, 7, 0x10, 6, -1, 0x20, 0, -1);
        byte[] shown = acl(1, 6, -1, 4, 4, -1, 8, 4, 200007, 0x10, 6, -1, 0x20, 0, -1);
        assertThrows(XattrIds.Untranslatable.class, () -> XattrIds.toDisk(XattrIds.ACL_ACCESS, acl(2, 6, 5), SHIFT));
        try {
            assertArrayEquals(shown, XattrIds.toHost(XattrIds.ACL_ACCESS, stray, SHIFT));
            assertArrayEquals(acl(1, 6, -1), XattrIds.toHost(XattrIds.ACL_DEFAULT, acl(1, 6, -1, 2, 6, 70000), SHIFT));
        } catch (XattrIds.Untranslatable e) {
            throw new AssertionError(e);
        }
    }

    /** USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER: the tags, in the order the kernel requires. */
    private static final int UO = 1, U = 2, GO = 4, G = 8, M = 0x10, O = 0x20;

    @Test
    void aWriteKeepsTheUnmappedEntriesOnDiskWithTheirOwnPermissions() throws Exception {
        // on disk: u:70000:rw and g:70001:rwx have no host id, u:5 and g:7 have
        byte[] onDisk = acl(UO, 6, -1, U, 5, 5, U, 6, 70000, GO, 4, -1, G, 4, 7, G, 7, 70001, M, 7, -1, O, 4, -1);
        // what chmod 640 through the view writes back: the shown ACL (no unmapped entries), mask and other changed
        byte[] chmodded = XattrIds.toDisk(XattrIds.ACL_ACCESS,
                acl(UO, 6, -1, U, 5, 100005, GO, 4, -1, G, 4, 200007, M, 4, -1, O, 0, -1), SHIFT);
        assertArrayEquals(acl(UO, 6, -1, U, 5, 5, U, 6, 70000, GO, 4, -1, G, 4, 7, G, 7, 70001, M, 4, -1, O, 0, -1),
                XattrIds.withUnshownEntries(chmodded, onDisk, SHIFT));
        // setfacl -x u:5 then -m u:9:r: the mapped entries are as written, the unmapped ones kept, in id order
        byte[] edited = XattrIds.toDisk(XattrIds.ACL_DEFAULT,
                acl(UO, 6, -1, U, 4, 100009, GO, 4, -1, M, 4, -1, O, 0, -1), SHIFT);
        assertArrayEquals(acl(UO, 6, -1, U, 4, 9, U, 6, 70000, GO, 4, -1, G, 7, 70001, M, 4, -1, O, 0, -1),
                XattrIds.withUnshownEntries(edited, onDisk, SHIFT));
    }

    @Test
    void aMinimalAclRemovesEveryNamedEntryAsOnAnIdmappedMount() throws Exception {
        // setfacl -b writes u::,g::,o:: (no mask: no named entries may follow)
        byte[] onDisk = acl(UO, 6, -1, U, 6, 70000, GO, 4, -1, M, 6, -1, O, 4, -1);
        byte[] minimal = acl(UO, 6, -1, GO, 4, -1, O, 4, -1);
        assertArrayEquals(minimal, XattrIds.withUnshownEntries(minimal, onDisk, SHIFT));
    }

    @Test
    void noAclOnDiskKeepsNothingAndAWrittenPermissionNeverReachesAnUnmappedId() throws Exception {
        byte[] written = acl(UO, 6, -1, U, 4, 5, GO, 4, -1, M, 7, -1, O, 0, -1);
        assertArrayEquals(written, XattrIds.withUnshownEntries(written, null, SHIFT));
        // a wide mask written over an entry that had --- on disk: the entry stays ---
        byte[] onDisk = acl(UO, 6, -1, U, 0, 70000, GO, 4, -1, M, 4, -1, O, 0, -1);
        assertArrayEquals(acl(UO, 6, -1, U, 4, 5, U, 0, 70000, GO, 4, -1, M, 7, -1, O, 0, -1),
                XattrIds.withUnshownEntries(written, onDisk, SHIFT));
    }

    @Test
    void idsOfAMapOfSeveralExtentsAreStoredInTheKernelsOrder() throws Exception {
        // on disk 0..999 -> host 100000.., 1000..1999 -> host 50000..: sorted by host id is not by on-disk id
        IdTranslation twoExtents = new IdTranslation(IdMapParser.parseColonList("0:100000:1000,1000:50000:1000"),
                IdMapParser.parseColonList("0:100000:2000"));
        byte[] written = XattrIds.toDisk(XattrIds.ACL_ACCESS,
                acl(UO, 6, -1, U, 4, 50005, U, 4, 100005, GO, 4, -1, M, 4, -1, O, 0, -1), twoExtents);
        assertArrayEquals(acl(UO, 6, -1, U, 4, 5, U, 4, 1005, GO, 4, -1, M, 4, -1, O, 0, -1),
                XattrIds.withUnshownEntries(written, null, twoExtents));
    }

    @Test
    void aMalformedAclOnDiskIsEinval() {
        byte[] written = acl(UO, 6, -1, GO, 4, -1, M, 4, -1, O, 0, -1);
        XattrIds.Untranslatable bad = assertThrows(XattrIds.Untranslatable.class,
                () -> XattrIds.withUnshownEntries(written, new byte[] {2, 0, 0, 0, 1, 0}, SHIFT));
        assertEquals(22, bad.errno());
    }

    @Test
    void malformedAclIsEinval() {
        XattrIds.Untranslatable bad = assertThrows(XattrIds.Untranslatable.class,
                () -> XattrIds.toDisk(XattrIds.ACL_ACCESS, new byte[] {2, 0, 0, 0, 1}, SHIFT));
        assertEquals(22, bad.errno());
    }

    @Test
    void capabilitiesFollowTheKernelsV2V3Rules() throws Exception {
        // on disk v2 (root id 0 of the filesystem) is shown as v3 with root id 100000, and back
        assertArrayEquals(capability(3, 100000), XattrIds.toHost(XattrIds.CAPABILITY, capability(2, 0), SHIFT));
        assertArrayEquals(capability(2, 0), XattrIds.toDisk(XattrIds.CAPABILITY, capability(3, 100000), SHIFT));
        // v3 with another root id: translated, stays v3
        assertArrayEquals(capability(3, 100005), XattrIds.toHost(XattrIds.CAPABILITY, capability(3, 5), SHIFT));
        assertArrayEquals(capability(3, 5), XattrIds.toDisk(XattrIds.CAPABILITY, capability(3, 100005), SHIFT));
        // a v2 written by host root: host 0 has no on-disk id here
        assertThrows(XattrIds.Untranslatable.class, () -> XattrIds.toDisk(XattrIds.CAPABILITY, capability(2, 0), SHIFT));
    }

    @Test
    void otherAttributesPassThrough() throws Exception {
        byte[] value = {1, 2, 3};
        assertArrayEquals(value, XattrIds.toHost("user.note", value, SHIFT));
        assertEquals(false, XattrIds.carriesIds("user.note"));
    }
}
