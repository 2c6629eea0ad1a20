package dev.idshift.backend.fuse;

import dev.idshift.idmap.IdMap;
import dev.idshift.sys.Errno;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The ids inside extended attribute values, translated as the kernel does for idmapped mounts:
 * POSIX ACL entries (system.posix_acl_access / _default: ACL_USER and ACL_GROUP ids) and a v3 file
 * capability's root id (security.capability). Values are little-endian, as the kernel's uapi has them.
 */
public final class XattrIds {
    public static final String ACL_ACCESS = "system.posix_acl_access";
    public static final String ACL_DEFAULT = "system.posix_acl_default";
    public static final String CAPABILITY = "security.capability";

    private static final int ACL_VERSION = 2;
    private static final int ACL_HEADER = 4;
    private static final int ACL_ENTRY = 8;
    private static final int ACL_USER = 0x02;
    private static final int ACL_GROUP = 0x08;
    private static final int ACL_MASK = 0x10;

    private static final int CAP_REVISION_MASK = 0xFF00_0000;
    private static final int CAP_REVISION_3 = 0x0300_0000;
    private static final int CAP_REVISION_2 = 0x0200_0000;
    private static final int CAP_V2_SIZE = 20;
    private static final int CAP_V3_SIZE = 24;
    private static final int CAP_ROOTID_OFFSET = 20;

    /** Why a value could not be translated: the errno for the FUSE reply. */
    public static final class Untranslatable extends Exception {
        private final int errno;

        Untranslatable(int errno, String message) {
            super(message, null, false, false);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private XattrIds() {
    }

    /** The names whose values carry ids. */
    static final List<String> WITH_IDS = List.of(CAPABILITY, ACL_ACCESS, ACL_DEFAULT);

    /** Whether {@code name} is a POSIX ACL (access or default). */
    public static boolean isAcl(String name) {
        return name.equals(ACL_ACCESS) || name.equals(ACL_DEFAULT);
    }

    /** Whether {@code name}'s value carries ids (the others pass through untouched). */
    public static boolean carriesIds(String name) {
        return WITH_IDS.contains(name);
    }

    /**
     * On disk -> shown. An ACL entry whose id is unmapped is left out: through an idmapped mount it
     * matches no process, and the kernel refuses an ACL value naming (uint32) -1, so leaving it out
     * is how it matches no one here (shown as the overflow id 65534, it granted host uid or gid
     * 65534 what it granted on disk). A capability's unmapped root id is shown as the overflow id:
     * it then applies only in namespaces whose root is host 65534, which hold every capability there
     * already.
     */
    public static byte[] toHost(String name, byte[] value, IdTranslation ids) throws Untranslatable {
        return translate(name, value, ids.uids(), ids.gids(), true);
    }

    /** Written -> on disk: an id with no on-disk id is refused (EINVAL, as the kernel refuses it). */
    public static byte[] toDisk(String name, byte[] value, IdTranslation ids) throws Untranslatable {
        return translate(name, value, ids.uids().invert(), ids.gids().invert(), false);
    }

    private static byte[] translate(String name, byte[] value, IdMap uidMap, IdMap gidMap, boolean overflowUnmapped)
            throws Untranslatable {
        if (name.equals(CAPABILITY)) {
            return capability(value, uidMap, overflowUnmapped);
        }
        if (isAcl(name)) {
            return acl(value, uidMap, gidMap, overflowUnmapped);
        }
        return value;
    }

    private static byte[] acl(byte[] value, IdMap uidMap, IdMap gidMap, boolean dropUnmapped) throws Untranslatable {
        List<AclEntry> translated = new ArrayList<>();
        for (AclEntry entry : aclEntries(value)) {
            IdMap map = entry.tag() == ACL_USER ? uidMap : entry.tag() == ACL_GROUP ? gidMap : null;
            if (map == null) {
                translated.add(entry);
            } else if (dropUnmapped && map.toOutside(entry.id()) < 0) {
                continue;  // matches no one, as through an idmapped mount (see toHost)
            } else {
                translated.add(new AclEntry(entry.tag(), entry.perm(), mapped(map, entry.id(), false)));
            }
        }
        return aclValue(translated);
    }

    /**
     * The ACL to store for a write through the view: {@code stored} (the written ACL in on-disk ids,
     * {@link #toDisk}) plus every ACL_USER and ACL_GROUP entry of {@code onDisk} (the file's ACL of
     * the same type as it is now; null when it has none) whose id has no mapping, with its on-disk
     * permissions.
     *
     * <p>Why: the view leaves those entries out ({@link #toHost}), and whatever writes an ACL writes
     * back what it read: the kernel itself on every chmod (with FUSE_POSIX_ACL it reads the ACL,
     * recomputes it for the new mode and writes it), setfacl on every change. Without this each such
     * write deleted them on disk; through an idmapped mount (the ground truth) chmod keeps them, as
     * the kernel changes ACLs in filesystem ids there.
     *
     * <p>What a caller can make this write: the kept entries' ids and permissions come from disk
     * only, so no unmapped id gets a permission bit its entry did not have; the written mask still
     * bounds them (effective rights), as it does on disk, and the file's owner sets that mask with
     * chmod through any mount. A written ACL without ACL_MASK is a minimal one (the kernel requires a
     * mask beside named entries): a request for no named entries at all (setfacl -b writes it), kept
     * as written, as an idmapped mount removes every entry then. The written ids all have a mapping
     * (toDisk refuses others) and the kept ones none, so no id is named twice.
     *
     * <p>Entries are sorted by tag, then id, as the kernel requires of a stored ACL: ids translated
     * through a map of several extents can change order too.
     */
    public static byte[] withUnshownEntries(byte[] stored, byte[] onDisk, IdTranslation ids) throws Untranslatable {
        List<AclEntry> entries = aclEntries(stored);
        boolean minimal = entries.stream().noneMatch(entry -> entry.tag() == ACL_MASK);
        if (onDisk != null && !minimal) {
            for (AclEntry entry : aclEntries(onDisk)) {
                IdMap map = entry.tag() == ACL_USER ? ids.uids() : entry.tag() == ACL_GROUP ? ids.gids() : null;
                if (map != null && map.toOutside(entry.id()) < 0) {
                    entries.add(entry);
                }
            }
        }
        entries.sort(AclEntry.KERNEL_ORDER);
        return aclValue(entries);
    }

    /** One entry of a POSIX ACL value: e_tag, e_perm and e_id (unsigned; -1 for entries without one). */
    private record AclEntry(int tag, int perm, long id) {
        static final Comparator<AclEntry> KERNEL_ORDER = Comparator.comparingInt(AclEntry::tag)
                .thenComparingLong(AclEntry::id);
    }

    private static List<AclEntry> aclEntries(byte[] value) throws Untranslatable {
        if (value.length < ACL_HEADER || (value.length - ACL_HEADER) % ACL_ENTRY != 0) {
            throw new Untranslatable(Errno.EINVAL, "malformed POSIX ACL of " + value.length + " bytes");
        }
        ByteBuffer acl = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (acl.getInt(0) != ACL_VERSION) {
            throw new Untranslatable(Errno.EOPNOTSUPP, "POSIX ACL version " + acl.getInt(0) + " (only 2 exists)");
        }
        List<AclEntry> entries = new ArrayList<>((value.length - ACL_HEADER) / ACL_ENTRY);
        for (int entry = ACL_HEADER; entry < value.length; entry += ACL_ENTRY) {
            entries.add(new AclEntry(acl.getShort(entry) & 0xFFFF, acl.getShort(entry + 2) & 0xFFFF,
                    Integer.toUnsignedLong(acl.getInt(entry + 4))));
        }
        return entries;
    }

    private static byte[] aclValue(List<AclEntry> entries) {
        ByteBuffer value = ByteBuffer.allocate(ACL_HEADER + entries.size() * ACL_ENTRY).order(ByteOrder.LITTLE_ENDIAN);
        value.putInt(ACL_VERSION);
        for (AclEntry entry : entries) {
            value.putShort((short) entry.tag()).putShort((short) entry.perm()).putInt((int) entry.id());
        }
        return value.array();
    }

    /**
     * A capability's root id, as the kernel translates it for an idmapped mount: a v2 value has the
     * implicit root id 0 (of the filesystem), shown as v3 with the host id 0 maps to (v2 again when
     * that is host 0); a written v3 whose root id maps back to on-disk 0 is stored as v2.
     */
    private static byte[] capability(byte[] value, IdMap uidMap, boolean overflowUnmapped) throws Untranslatable {
        if (value.length < 4) {
            throw new Untranslatable(Errno.EINVAL, "malformed file capability of " + value.length + " bytes");
        }
        ByteBuffer caps = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        int magic = caps.getInt(0);
        int revision = magic & CAP_REVISION_MASK;
        long rootId;
        if (revision == CAP_REVISION_3) {
            if (value.length < CAP_V3_SIZE) {
                throw new Untranslatable(Errno.EINVAL, "malformed v3 file capability of " + value.length + " bytes");
            }
            rootId = Integer.toUnsignedLong(caps.getInt(CAP_ROOTID_OFFSET));
        } else if (revision == CAP_REVISION_2 && value.length >= CAP_V2_SIZE) {
            rootId = 0;
        } else {
            return value;  // v1: no root id at all
        }
        long translated = mapped(uidMap, rootId, overflowUnmapped);
        ByteBuffer result;
        if (translated == 0) {
            result = ByteBuffer.allocate(CAP_V2_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            result.putInt(0, (magic & ~CAP_REVISION_MASK) | CAP_REVISION_2);
        } else {
            result = ByteBuffer.allocate(CAP_V3_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            result.putInt(0, (magic & ~CAP_REVISION_MASK) | CAP_REVISION_3);
            result.putInt(CAP_ROOTID_OFFSET, (int) translated);
        }
        for (int at = 4; at < CAP_V2_SIZE; at += 4) {
            result.putInt(at, caps.getInt(at));  // permitted and inheritable, both 64-bit halves
        }
        return result.array();
    }

    private static long mapped(IdMap map, long id, boolean overflowUnmapped) throws Untranslatable {
        long result = map.toOutside(id);
        if (result >= 0) {
            return result;
        }
        if (overflowUnmapped) {
            return IdMap.OVERFLOW_ID;
        }
        throw new Untranslatable(Errno.EINVAL, "id " + id + " has no on-disk id in this mount's map");
    }
}
