package dev.idshift.marks;

import java.util.ArrayList;
import java.util.List;

/**
 * A POSIX access ACL as the kernel stores it in the {@code system.posix_acl_access} xattr: a
 * little-endian header (version 2), then 8-byte entries {u16 tag, u16 perm, u32 id}.
 *
 * <p>Only the entries the mode bits cannot show matter here: named users and named groups, and the
 * owning group's own entry, each limited by the mask (with an ACL, a mode's group bits are the mask,
 * not the owning group's permissions).
 */
public record PosixAcl(List<Entry> entries) {
    public static final int USER_OBJ = 0x01;
    public static final int USER = 0x02;
    public static final int GROUP_OBJ = 0x04;
    public static final int GROUP = 0x08;
    public static final int MASK = 0x10;
    public static final int OTHER = 0x20;

    private static final int VERSION = 2;

    /** One entry; {@code id} is meaningful for USER and GROUP only. */
    public record Entry(int tag, int perm, long id) {
    }

    /** Parses the xattr's bytes; {@code subject} names the file in the error. */
    public static PosixAcl parse(byte[] bytes, String subject) {
        if (bytes.length < 4 || (bytes.length - 4) % 8 != 0 || readInt(bytes, 0) != VERSION) {
            throw new IllegalArgumentException(subject + ": system.posix_acl_access is not a version 2 ACL ("
                    + bytes.length + " bytes)");
        }
        List<Entry> entries = new ArrayList<>();
        for (int at = 4; at < bytes.length; at += 8) {
            int tag = (bytes[at] & 0xFF) | (bytes[at + 1] & 0xFF) << 8;
            int perm = (bytes[at + 2] & 0xFF) | (bytes[at + 3] & 0xFF) << 8;
            entries.add(new Entry(tag, perm, readInt(bytes, at + 4) & 0xFFFF_FFFFL));
        }
        return new PosixAcl(List.copyOf(entries));
    }

    /** The mask entry's permissions, or 7 when there is none (a minimal ACL masks nothing). */
    public int mask() {
        for (Entry entry : entries) {
            if (entry.tag() == MASK) {
                return entry.perm();
            }
        }
        return 7;
    }

    /** The entries of the group class (owning group, named users, named groups), their permissions masked. */
    public List<Entry> groupClass() {
        int mask = mask();
        List<Entry> masked = new ArrayList<>();
        for (Entry entry : entries) {
            if (entry.tag() == USER || entry.tag() == GROUP_OBJ || entry.tag() == GROUP) {
                masked.add(new Entry(entry.tag(), entry.perm() & mask, entry.id()));
            }
        }
        return masked;
    }

    private static int readInt(byte[] bytes, int at) {
        return (bytes[at] & 0xFF) | (bytes[at + 1] & 0xFF) << 8 | (bytes[at + 2] & 0xFF) << 16 | (bytes[at + 3] & 0xFF) << 24;
    }
}
