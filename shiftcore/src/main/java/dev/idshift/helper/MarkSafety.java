package dev.idshift.helper;

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
 * excepted), and at least one of them must be closed to traversal by non-root users.
 */
public final class MarkSafety {
    private MarkSafety() {
    }

    public static List<String> problems(Path path) {
        List<String> problems = new ArrayList<>();
        boolean closedToOthers = false;
        Path current = path.getRoot();
        List<Path> chain = new ArrayList<>();
        chain.add(current);
        for (Path part : path) {
            current = current.resolve(part);
            chain.add(current);
        }
        for (Path component : chain) {
            Map<String, Object> attributes;
            try {
                attributes = Files.readAttributes(component, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
            } catch (IOException e) {
                problems.add(component + " cannot be read: " + e.getMessage());
                continue;
            }
            int uid = (Integer) attributes.get("uid");
            int gid = (Integer) attributes.get("gid");
            int mode = (Integer) attributes.get("mode");
            if (uid != 0) {
                problems.add(component + " is owned by uid " + uid + ", not root");
            }
            boolean groupWritable = (mode & 0020) != 0 && gid != 0;
            boolean otherWritable = (mode & 0002) != 0;
            // A sticky ancestor (/tmp) is fine: others cannot rename or replace root's entries in it.
            boolean stickyAncestor = (mode & 01000) != 0 && !component.equals(path);
            if ((groupWritable || otherWritable) && !stickyAncestor) {
                problems.add(component + " is writable by " + (otherWritable ? "everyone" : "group " + gid) + String.format(" (mode %o)", mode & 07777));
            }
            boolean traversableByOthers = (mode & 0001) != 0 || ((mode & 0010) != 0 && gid != 0);
            if (!traversableByOthers) {
                closedToOthers = true;
            }
        }
        if (!closedToOthers) {
            problems.add("unprivileged users can traverse every directory down to " + path + " and so could run setuid files"
                    + " a container writes there; make it or an ancestor mode 0700 (e.g. put it under a 0700 directory)");
        }
        return problems;
    }
}
