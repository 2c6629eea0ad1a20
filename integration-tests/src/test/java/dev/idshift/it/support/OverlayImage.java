package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A two-layer image as rootful engines store it, owned by host root, with what overlayfs gives
 * meaning to: a whiteout and an opaque dir (trusted.overlay.opaque, set by host root) in the upper
 * image layer, a lower dir to rename, a setuid file, a file with a capability and an ACL, a hard
 * link pair. Plus an empty upper and work dir, under one parent as engines keep them.
 */
public final class OverlayImage {
    public final Path bottom;
    public final Path top;
    public final Path upper;
    public final Path work;

    private OverlayImage(Path parent) {
        bottom = parent.resolve("l1");
        top = parent.resolve("l2");
        upper = parent.resolve("c/diff");
        work = parent.resolve("c/work");
    }

    public static OverlayImage create(Path parent) throws IOException {
        OverlayImage image = new OverlayImage(parent);
        Rootfs.create(image.bottom);
        Files.createDirectories(image.top);
        Files.createDirectories(image.upper);
        Files.createDirectories(image.work);
        Exec.ok(List.of("sh", "-ec", ""
                + "cd \"$0\"; mkdir -p data/opq data/movable/deep; echo old > data/opq/old; echo gone > data/gone;"
                + " echo inner > data/movable/deep/inner; echo s > data/suid; chmod 4755 data/suid;"
                + " echo c > data/capfile; setcap cap_net_raw+ep data/capfile; setfacl -m u:1000:r data/capfile;"
                + " echo h > data/linkme; ln data/linkme data/linkpair;"
                + " cd \"$1\"; mkdir -p data/opq; echo new > data/opq/new; setfattr -n trusted.overlay.opaque -v y data/opq;"
                + " mknod data/gone c 0 0; echo l2 > data/l2file",
                image.bottom.toString(), image.top.toString()));
        return image;
    }

    /** The same layers copied (xattrs, whiteouts, links and all), for the ground-truth overlay. */
    public OverlayImage copyTo(Path parent) throws IOException {
        OverlayImage copy = new OverlayImage(parent);
        Files.createDirectories(copy.upper.getParent());
        Exec.ok(List.of("cp", "-a", bottom.toString(), copy.bottom.toString()));
        Exec.ok(List.of("cp", "-a", top.toString(), copy.top.toString()));
        Exec.ok(List.of("cp", "-a", upper.toString(), copy.upper.toString()));
        Exec.ok(List.of("cp", "-a", work.toString(), copy.work.toString()));
        return copy;
    }

    public String options() {
        return "lowerdir=" + top + ":" + bottom + ",upperdir=" + upper + ",workdir=" + work + ",redirect_dir=on";
    }

    /** Mounts the overlay at {@code merged} as an engine does (host root, no user namespace). */
    public void mount(Path merged) {
        Exec.ok(List.of("mount", "-t", "overlay", "overlay", "-o", options(), merged.toString()));
    }

    /** Everything about a tree that a change would show: names, types, owners, modes, sizes, contents, xattrs, ACLs. */
    public static String digest(Path tree) {
        return Exec.ok(List.of("sh", "-c", "cd \"$0\" && find . -printf '%p %y %u:%g %m %s %n %T@\\n' | sort"
                + " && find . -type f -exec sha256sum {} + | sort && getfattr -R -h -d -m - -e hex . 2>/dev/null | grep -v '^$' | sort",
                tree.toString())).stdout();
    }

    /**
     * The upper dir as a listing comparable between two overlays: names, types, owners, modes,
     * link counts, xattrs and ACLs (the whiteouts the overlay makes included). Origin handles and
     * uuids name the layers' own inodes and filesystem, so only their presence counts.
     */
    public static String upperListing(Path upper) {
        return Exec.ok(List.of("sh", "-c", "cd \"$0\" && find . -printf '%p %y %m %n %u:%g\\n' | sort"
                + " && getfattr -R -h -d -m - -e hex . 2>/dev/null | grep -v '^$'"
                + " | sed -e 's/^trusted.overlay.origin=.*/trusted.overlay.origin (a file handle)/' -e 's/^trusted.overlay.uuid=.*/trusted.overlay.uuid/' | sort"
                + " && find . | sort | xargs getfacl -n -p 2>/dev/null | grep -v '^$'",
                upper.toString())).stdout();
    }
}
