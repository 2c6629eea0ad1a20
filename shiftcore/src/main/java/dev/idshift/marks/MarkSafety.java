package dev.idshift.marks;

import dev.idshift.sys.files.FileSyscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Why a path is unsafe to mark. A container's root writes files that are host-root-owned on disk,
 * setuid ones included: an unprivileged host user who can reach the marked tree could run them,
 * and one who can write an ancestor could swap the tree for something else. So: every ancestor
 * (and the path) must be owned by root and writable by no one else (a sticky ancestor such as /tmp
 * excepted), and at least one ancestor must be closed to traversal by everyone but root. The path's
 * own mode does not count: the root of a mount of the tree is that directory, and whoever may use
 * the mark owns it through the mount and can chmod it open.
 *
 * <p>"Everyone but root" is judged from the effective permissions, the access ACL included: a
 * 0710 directory with {@code u:alice:x} is open to alice. The group bits count unless the group
 * can be shown to have no member but root ({@link RootOnlyGroups}); group 0 is not that by number.
 *
 * <p>Checked by `idshift mark`, and again by the daemon on every mount and shift request
 * ({@link #requireStillSafe}): a tree made safe and loosened later is refused then.
 */
public final class MarkSafety {
    private static final int WRITE = 2;
    private static final int EXECUTE = 1;

    private MarkSafety() {
    }

    /** One directory's owner, group, mode and access ACL (null: none beyond the mode). */
    public record Node(long uid, long gid, int mode, PosixAcl acl) {
    }

    /** Where the facts come from: the real filesystem and /etc, or a test's fakes. */
    public interface Inspector {
        Node inspect(Path path) throws IOException;

        boolean rootOnlyGroup(long gid);
    }

    /** The host's files (no-follow), and ETC/group and ETC/passwd for group membership. */
    public static Inspector host(Path etc) {
        return new Inspector() {
            /** Read when first needed: most chains never ask (their group bits are clear, or everyone may anyway). */
            private RootOnlyGroups groups;

            @Override
            public Node inspect(Path path) throws IOException {
                Map<String, Object> attributes = Files.readAttributes(path, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
                byte[] acl = FileSyscalls.get().lgetxattr(path.toString(), "system.posix_acl_access");
                return new Node((Integer) attributes.get("uid") & 0xFFFF_FFFFL, (Integer) attributes.get("gid") & 0xFFFF_FFFFL,
                        (Integer) attributes.get("mode"), acl == null ? null : PosixAcl.parse(acl, path.toString()));
            }

            @Override
            public boolean rootOnlyGroup(long gid) {
                if (groups == null) {
                    groups = RootOnlyGroups.in(etc);
                }
                return groups.rootOnly(gid);
            }
        };
    }

    /** The problems of {@code path} on this host (groups from {@code etc}); empty when it is safe. */
    public static List<String> problems(Path path, Path etc) {
        return problems(path, host(etc));
    }

    /**
     * Refuses a mark that no longer holds (unless root forced it): the daemon asks before every
     * mount or shift of a tree beneath it.
     */
    public static void requireStillSafe(Mark mark, Path etc) {
        if (mark.forced()) {
            return;
        }
        List<String> problems = problems(Path.of(mark.path()), etc);
        if (!problems.isEmpty()) {
            throw new Refusal("mark " + mark.path() + " is no longer safe to use: " + String.join("; ", problems)
                    + " (root: close it again, or mark it anew with --force)");
        }
    }

    public static List<String> problems(Path path, Inspector inspector) {
        List<String> problems = new ArrayList<>();
        boolean closedToOthers = false;
        // Ancestors closed to everyone but a few: naming those few says what to fix (an ACL, a group).
        List<String> nearlyClosed = new ArrayList<>();
        Path current = path.getRoot();
        List<Path> chain = new ArrayList<>();
        chain.add(current);
        for (Path part : path) {
            current = current.resolve(part);
            chain.add(current);
        }
        for (Path component : chain) {
            Node node;
            try {
                node = inspector.inspect(component);
            } catch (IOException | RuntimeException e) {
                problems.add(component + " cannot be read: " + e.getMessage());
                continue;
            }
            if (node.uid() != 0) {
                problems.add(component + " is owned by uid " + node.uid() + ", not root");
            }
            List<String> writers = othersWith(node, WRITE, inspector);
            // A sticky ancestor (/tmp) is fine: others cannot rename or replace root's entries in it.
            boolean stickyAncestor = (node.mode() & 01000) != 0 && !component.equals(path);
            if (!writers.isEmpty() && !stickyAncestor) {
                problems.add(component + " is writable by " + String.join(", ", writers) + String.format(" (mode %o%s)",
                        node.mode() & 07777, node.acl() == null ? "" : " and an ACL"));
            }
            if (component.equals(path)) {
                // The path's own mode cannot be what closes it: a mount of the tree (the daemon's, or a view
                // mounted over it) has this directory as its root, whose owner through the mount may chmod it open.
                continue;
            }
            List<String> searchers = othersWith(node, EXECUTE, inspector);
            if (searchers.isEmpty()) {
                closedToOthers = true;
            } else if (!searchers.contains("everyone")) {
                nearlyClosed.add(component + " is searchable by " + String.join(", ", searchers));
            }
        }
        if (!closedToOthers) {
            problems.add("unprivileged users can traverse every directory down to " + path + " and so could run setuid files"
                    + " a container writes there; put it under a directory of mode 0700 with no ACL granting"
                    + " search (its own mode does not count: whoever may mount it can chmod it)" + (nearlyClosed.isEmpty() ? "" : ": " + String.join("; ", nearlyClosed)));
        }
        return problems;
    }

    /** Who but root holds permission {@code bit} (2 write, 1 search) on the node: "everyone", "group 5", "user 1000 (ACL)". */
    static List<String> othersWith(Node node, int bit, Inspector inspector) {
        List<String> others = new ArrayList<>();
        if ((node.mode() & bit) != 0) {
            others.add("everyone");
            return others; // says it all, and spares reading /etc/group on the daemon's every request
        }
        if (node.uid() != 0 && (node.mode() >> 6 & bit) != 0) {
            others.add("its owner, uid " + node.uid());
        }
        if (node.acl() == null) {
            if ((node.mode() >> 3 & bit) != 0 && !inspector.rootOnlyGroup(node.gid())) {
                others.add("group " + node.gid());
            }
            return others;
        }
        for (PosixAcl.Entry entry : node.acl().groupClass()) {
            if ((entry.perm() & bit) == 0) {
                continue;
            }
            if (entry.tag() == PosixAcl.USER && entry.id() != 0) {
                others.add("user " + entry.id() + " (ACL)");
            } else if (entry.tag() == PosixAcl.GROUP_OBJ && !inspector.rootOnlyGroup(node.gid())) {
                others.add("group " + node.gid());
            } else if (entry.tag() == PosixAcl.GROUP && !inspector.rootOnlyGroup(entry.id())) {
                others.add("group " + entry.id() + " (ACL)");
            }
        }
        return others;
    }
}
