package dev.idshift.sys.mounts;

import dev.idshift.sys.Fd;
import dev.idshift.sys.Linux;
import dev.idshift.sys.SyscallException;
import dev.idshift.sys.files.FileSyscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link MountCalls} that mounts nothing and writes down every call, one line each, so a test can
 * check what mount planning asks for and in what order, without root:
 *
 * <pre>
 * open_tree /r/proc clone recursive = #1
 * mount_setattr #1 idmap userns
 * move_mount #1 -> /r
 * fsopen tmpfs = #2
 * fsconfig #2 size=0k
 * fsmount #2 ro = #3
 * umount /r detach
 * </pre>
 *
 * A tree or context it hands out is "#N" (the Nth), backed by a real fd of /dev/null so that the
 * code under test closes it as it would a mount's; {@link #stillOpen()} lists those not closed. Any
 * other fd is named by the path it was opened for, {@code root} shown as "ROOT". A call can be made
 * to fail ({@link #failWhen}): it is written down, then throws the {@link SyscallException} the
 * kernel's would.
 */
public final class RecordingMountCalls implements MountCalls {
    private final String root;
    private final List<String> calls = new ArrayList<>();
    private final List<Fd> handedOut = new ArrayList<>();
    /** fd number -> index in handedOut, for the fds handed out (a number may be reused once closed). */
    private final Map<Integer, Integer> handedOutIndex = new HashMap<>();
    private final Map<String, Integer> failures = new HashMap<>();

    /** @param root a directory whose path is shown as "ROOT" (null: none) */
    public RecordingMountCalls(Path root) {
        this.root = root == null ? null : root.toString();
    }

    public RecordingMountCalls() {
        this(null);
    }

    /** Makes the first call whose line starts with {@code linePrefix} fail with {@code errno}. */
    public RecordingMountCalls failWhen(String linePrefix, int errno) {
        failures.put(linePrefix, errno);
        return this;
    }

    /** Every call so far, one line each. */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    /** The handed-out trees and contexts ("#N") that were not closed. */
    public List<String> stillOpen() {
        List<String> open = new ArrayList<>();
        for (int i = 0; i < handedOut.size(); i++) {
            if (isOpen(handedOut.get(i))) {
                open.add("#" + (i + 1));
            }
        }
        return open;
    }

    private static boolean isOpen(Fd fd) {
        try {
            fd.get();
            return true;
        } catch (IllegalStateException closed) {
            return false;
        }
    }

    /** A new "#N" handed out for the call written down as {@code line}. */
    private Fd handOut(String line, String operation, String subject) {
        String name = "#" + (handedOut.size() + 1);
        record(line + " = " + name, operation, subject);
        Fd fd = new Fd(FileSyscalls.get().open("/dev/null", Linux.O_RDONLY));
        handedOut.add(fd);
        handedOutIndex.put(fd.get(), handedOut.size() - 1);
        return fd;
    }

    private void record(String line, String operation, String subject) {
        record(line, operation, subject, null);
    }

    /** @param argument what the failure names besides the subject, as the kernel's calls do (fsconfig's setting) */
    private void record(String line, String operation, String subject, String argument) {
        calls.add(line);
        for (String prefix : List.copyOf(failures.keySet())) {
            if (line.startsWith(prefix)) {
                throw new SyscallException(operation, subject, argument, failures.remove(prefix));
            }
        }
    }

    /** What {@code dirfd} and {@code path} name together. */
    private String where(int dirfd, String path) {
        if (path != null && !path.isEmpty()) {
            return dirfd == Linux.AT_FDCWD ? shown(path) : name(dirfd) + "/" + path;
        }
        return name(dirfd);
    }

    private String name(int fd) {
        Integer index = handedOutIndex.get(fd);
        if (index != null && isOpen(handedOut.get(index))) {
            return "#" + (index + 1);
        }
        if (fd == Linux.AT_FDCWD) {
            return "cwd";
        }
        try {
            return shown(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString());
        } catch (IOException e) {
            return "fd " + fd;
        }
    }

    private String shown(String path) {
        return root != null && path.startsWith(root) ? "ROOT" + path.substring(root.length()) : path;
    }

    private static String flags(long bits, long bit, String word) {
        return (bits & bit) != 0 ? " " + word : "";
    }

    private static String attributes(long attrSet) {
        return flags(attrSet, Linux.MOUNT_ATTR_IDMAP, "idmap") + flags(attrSet, Linux.MOUNT_ATTR_RDONLY, "ro")
                + flags(attrSet, Linux.MOUNT_ATTR_NOSUID, "nosuid") + flags(attrSet, Linux.MOUNT_ATTR_NODEV, "nodev")
                + flags(attrSet, Linux.MOUNT_ATTR_NOEXEC, "noexec");
    }

    @Override
    public Fd openTree(int dirfd, String path, int flags, String subject) {
        String line = "open_tree " + where(dirfd, path) + flags(flags, Linux.OPEN_TREE_CLONE, "clone")
                + flags(flags, Linux.AT_RECURSIVE, "recursive");
        return handOut(line, "open_tree", subject);
    }

    @Override
    public void mountSetattr(int dirfd, String path, int flags, long attrSet, long attrClr, long propagation, long usernsFd,
                             String subject) {
        String line = "mount_setattr " + where(dirfd, path) + flags(flags, Linux.AT_RECURSIVE, "recursive") + attributes(attrSet)
                + (attrClr != 0 ? " clear" + attributes(attrClr) : "")
                + flags(propagation, Linux.MS_PRIVATE, "private") + flags(propagation, Linux.MS_SHARED, "shared")
                + ((attrSet & Linux.MOUNT_ATTR_IDMAP) != 0 ? " userns " + name((int) usernsFd) : "");
        record(line, "mount_setattr", subject);
    }

    @Override
    public void moveMount(int fromDirfd, String fromPath, int toDirfd, String toPath, int flags, String subject) {
        record("move_mount " + where(fromDirfd, fromPath) + " -> " + where(toDirfd, toPath), "move_mount", subject);
    }

    @Override
    public Fd fsopen(String fsName) {
        return handOut("fsopen " + fsName, "fsopen", fsName);
    }

    @Override
    public void fsconfig(int fd, int command, String key, String value, String subject) {
        String what = command == Linux.FSCONFIG_CMD_CREATE ? "create" : command == Linux.FSCONFIG_SET_FLAG ? key : key + "=" + value;
        record("fsconfig " + name(fd) + " " + what, "fsconfig", subject, what);
    }

    @Override
    public void fsconfigFd(int fd, String key, int valueFd, String subject) {
        record("fsconfig " + name(fd) + " " + key + "=" + name(valueFd), "fsconfig", subject, key + "=fd");
    }

    @Override
    public Fd fsmount(int fd, long attrFlags, String subject) {
        return handOut("fsmount " + name(fd) + attributes(attrFlags), "fsmount", subject);
    }

    @Override
    public void umount2(String target, int flags) {
        record("umount " + shown(target) + flags(flags, Linux.MNT_DETACH, "detach"), "umount", target);
    }
}
