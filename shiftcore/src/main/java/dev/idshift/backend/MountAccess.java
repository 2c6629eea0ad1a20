package dev.idshift.backend;

import dev.idshift.failure.BadInputException;
import dev.idshift.sys.Linux;

/**
 * What a shifted mount lets its users do beyond reading files, whichever backend makes it: write
 * (not {@code readonly}), run setuid/setgid files with their owners' ids ({@code suid}), and open
 * device nodes ({@code dev}).
 *
 * <p>Through a shifted view a file that is root's on disk is the container root's host id's; a
 * setuid one runs as that id. A container needs that inside its own namespaces; a view mounted where
 * host users can reach it gives them that id. So views made by hand default to {@link #RESTRICTED}.
 */
public record MountAccess(boolean readonly, boolean suid, boolean dev) {
    /** A container's own rootfs and volumes, as the runtime would mount them itself. */
    public static final MountAccess CONTAINER = new MountAccess(false, true, true);
    /** {@code idshift mount} without options: nosuid, nodev. */
    public static final MountAccess RESTRICTED = new MountAccess(false, false, false);

    public MountAccess withReadonly(boolean readonly) {
        return new MountAccess(readonly, suid, dev);
    }

    /** The flags as mount(8) words, e.g. "rw,nosuid,nodev": the FUSE server's argument, and people's output. */
    public String words() {
        return (readonly ? "ro" : "rw") + (suid ? ",suid" : ",nosuid") + (dev ? ",dev" : ",nodev");
    }

    /**
     * The inverse of {@link #words}. A bare "ro" or "rw" (a server started by an older idshift) means
     * suid and dev, as those servers mounted.
     */
    public static MountAccess parse(String words) {
        MountAccess access = CONTAINER;
        for (String word : words.split(",")) {
            switch (word) {
                case "ro": access = new MountAccess(true, access.suid, access.dev); break;
                case "rw": access = new MountAccess(false, access.suid, access.dev); break;
                case "suid": access = new MountAccess(access.readonly, true, access.dev); break;
                case "nosuid": access = new MountAccess(access.readonly, false, access.dev); break;
                case "dev": access = new MountAccess(access.readonly, access.suid, true); break;
                case "nodev": access = new MountAccess(access.readonly, access.suid, false); break;
                default: throw new BadInputException("\"" + words + "\": unknown mount flag \"" + word
                        + "\"; expected ro, rw, suid, nosuid, dev or nodev");
            }
        }
        return access;
    }

    /** The MOUNT_ATTR_* bits (mount_setattr) this asks for; the idmap is set apart. */
    public long kernelAttributes() {
        return (readonly ? Linux.MOUNT_ATTR_RDONLY : 0) | (suid ? 0 : Linux.MOUNT_ATTR_NOSUID) | (dev ? 0 : Linux.MOUNT_ATTR_NODEV);
    }
}
