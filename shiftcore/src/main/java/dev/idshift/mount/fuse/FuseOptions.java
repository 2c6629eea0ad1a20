package dev.idshift.mount.fuse;

import dev.idshift.mount.MountAccess;

/**
 * libfuse's mount options for a shifted mount, and why each.
 *
 * <p>Coherence trade-offs: attributes and names are cached by the kernel for one second (libfuse's
 * default; changes made through the mount are seen at once, changes made to the source behind its
 * back within a second); file data stays in the page cache across opens unless the file's size or
 * mtime changed since (auto_cache), so rereading an unchanged file costs no FUSE round trip.
 */
public final class FuseOptions {
    private FuseOptions() {
    }

    public static String[] of(String source, MountAccess access) {
        String options = "allow_other"          // the container's users, not only the mounter, see it
                + ",default_permissions"        // the kernel checks access, on the shifted ids we report
                + ",use_ino"                    // the source's inode numbers: hard links look like hard links
                + (access.suid() ? ",suid" : ",nosuid")  // asked for: libfuse defaults to nosuid,nodev;
                + (access.dev() ? ",dev" : ",nodev")     // a container's rootfs needs both, a view for people neither
                + ",big_writes,max_write=131072,max_read=131072"  // 128 KiB requests, not 4 KiB
                + ",splice_write,splice_move"   // reads are spliced from the source file to the kernel (read_buf)
                + ",attr_timeout=1,entry_timeout=1,negative_timeout=0"
                + ",auto_cache"
                + ",subtype=idshift,fsname=" + escape(source)
                + (access.readonly() ? ",ro" : "");
        java.util.List<String> arguments = new java.util.ArrayList<>(java.util.List.of("-o", options));
        String extra = System.getenv("IDSHIFT_FUSE_EXTRA");  // debugging: e.g. "-d", or "-s" (single-threaded)
        if (extra != null && !extra.isBlank()) {
            arguments.addAll(java.util.List.of(extra.trim().split("\\s+")));
        }
        return arguments.toArray(new String[0]);
    }

    /** libfuse's option syntax: commas and backslashes inside a value are backslash-escaped. */
    static String escape(String value) {
        return value.replace("\\", "\\\\").replace(",", "\\,");
    }
}
