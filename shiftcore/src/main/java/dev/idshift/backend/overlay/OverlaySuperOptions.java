package dev.idshift.backend.overlay;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.backend.IdmapUnsupportedException;
import dev.idshift.backend.kernel.MountInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an {@link OverlaySpec} from an overlay's super options in mountinfo, e.g.
 * {@code rw,lowerdir=/l/a:/l/b::/l/data,upperdir=/u,workdir=/w,redirect_dir=on,metacopy=on}.
 *
 * <p>Two escapings stack: mountinfo writes space, tab, newline, backslash and comma as
 * {@code \ooo}; inside {@code lowerdir=} overlayfs keeps the engine's own backslash escapes of
 * {@code :} and {@code ,} and separates layers with {@code :} (data-only layers with {@code ::}).
 * Layers given one by one ({@code lowerdir+=}, {@code datadir+=}) are listed one per option.
 *
 * <p>Options whose meaning the new overlay could not keep are refused, never dropped.
 */
public final class OverlaySuperOptions {
    private OverlaySuperOptions() {
    }

    /**
     * @throws IdmapUnsupportedException the layers cannot be found from here (FUSE can still shift the overlay)
     * @throws UnsupportedException an option the rebuilt overlay cannot keep
     */
    public static OverlaySpec parse(String superOptions, String mountPoint) {
        List<String> lowers = new ArrayList<>();
        List<String> dataLayers = new ArrayList<>();
        List<OverlaySpec.Setting> settings = new ArrayList<>();
        String upper = null;
        String work = null;
        boolean readonly = false;
        for (String option : superOptions.split(",")) {
            int equals = option.indexOf('=');
            String key = equals < 0 ? option : option.substring(0, equals);
            String value = equals < 0 ? null : MountInfo.unescape(option.substring(equals + 1));
            switch (key) {
                case "rw":
                    break;
                case "ro":
                    readonly = true;
                    break;
                case "lowerdir":
                    splitLowerdir(value, lowers, dataLayers);
                    break;
                case "lowerdir+":
                    lowers.add(value);
                    break;
                case "datadir+":
                    dataLayers.add(value);
                    break;
                case "upperdir":
                    upper = value;
                    break;
                case "workdir":
                    work = value;
                    break;
                case "index":
                case "nfs_export":
                    if (!"off".equals(value)) {
                        throw new UnsupportedException(refusal(mountPoint, option, "the engine's overlay holds its upper"
                                + " and work dirs, and the kernel refuses a second overlay with an index over them (EBUSY)"));
                    }
                    settings.add(new OverlaySpec.Setting(key, value));
                    break;
                case "redirect_dir":
                case "metacopy":
                case "xino":
                case "uuid":
                case "verity":
                    settings.add(new OverlaySpec.Setting(key, value));
                    break;
                case "volatile":
                case "fsync":
                    if (key.equals("volatile") || "volatile".equals(value)) {
                        throw new UnsupportedException(refusal(mountPoint, option, "the engine's volatile overlay marks its"
                                + " work dir dirty (work/incompat/volatile) and the kernel refuses a second overlay over it"));
                    }
                    settings.add(new OverlaySpec.Setting(key, value));
                    break;
                case "userxattr":
                case "default_permissions":
                    settings.add(new OverlaySpec.Setting(key, null));
                    break;
                default:
                    throw new UnsupportedException(refusal(mountPoint, option, "idshift does not know what it changes"));
            }
        }
        if (lowers.isEmpty()) {
            throw new IdmapUnsupportedException("overlay " + mountPoint + ": its super options name no lower layer: " + superOptions);
        }
        if ((upper == null) != (work == null)) {
            throw new IdmapUnsupportedException("overlay " + mountPoint + ": upperdir and workdir must come together: " + superOptions);
        }
        String home = relativeBase(lowers, dataLayers, upper, work, mountPoint);
        if (home != null) {
            resolveAll(lowers, home);
            resolveAll(dataLayers, home);
            upper = upper == null ? null : resolve(upper, home);
            work = work == null ? null : resolve(work, home);
        }
        List<String> all = new ArrayList<>(lowers);
        all.addAll(dataLayers);
        if (upper != null) {
            all.add(upper);
            all.add(work);
        }
        for (String layer : all) {
            requireLocatable(layer, mountPoint);
        }
        return new OverlaySpec(mountPoint, List.copyOf(lowers), List.copyOf(dataLayers), upper, work, List.copyOf(settings), readonly);
    }

    /**
     * The directory relative layer paths are relative to, when the overlay is laid out as
     * containers/storage lays it out: it mounts with its overlay dir HOME as working directory
     * ({@code lowerdir=l/ABC:l/DEF,upperdir=ID/diff,workdir=ID/work}) when the absolute option string
     * would not fit a page, on HOME/ID/merged. Recognised only when the upper dir is exactly the
     * merged dir's sibling {@code diff}; otherwise null (the layers stay unlocatable).
     */
    static String relativeBase(List<String> lowers, List<String> dataLayers, String upper, String work, String mountPoint) {
        boolean anyRelative = upper != null && !upper.startsWith("/");
        for (String layer : lowers) {
            anyRelative |= !layer.startsWith("/");
        }
        for (String layer : dataLayers) {
            anyRelative |= !layer.startsWith("/");
        }
        Path merged = Path.of(mountPoint);
        if (!anyRelative || upper == null || merged.getParent() == null || merged.getParent().getParent() == null) {
            return null;
        }
        Path home = merged.getParent().getParent();
        String id = merged.getParent().getFileName().toString();
        return upper.equals(id + "/diff") && work.equals(id + "/work") ? home.toString() : null;
    }

    private static void resolveAll(List<String> layers, String home) {
        for (int i = 0; i < layers.size(); i++) {
            layers.set(i, resolve(layers.get(i), home));
        }
    }

    private static String resolve(String layer, String home) {
        return layer.startsWith("/") ? layer : Path.of(home).resolve(layer).normalize().toString();
    }

    /** {@code a:b::d1::d2}: lowers a, b; data-only layers d1, d2. Backslash escapes the next character. */
    static void splitLowerdir(String value, List<String> lowers, List<String> dataLayers) {
        StringBuilder layer = new StringBuilder();
        boolean data = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                layer.append(value.charAt(++i));
            } else if (c == ':') {
                (data ? dataLayers : lowers).add(layer.toString());
                layer.setLength(0);
                if (i + 1 < value.length() && value.charAt(i + 1) == ':') {
                    data = true;
                    i++;
                }
            } else {
                layer.append(c);
            }
        }
        (data ? dataLayers : lowers).add(layer.toString());
    }

    /**
     * The superblock keeps layer paths as the engine wrote them: relative to the engine's working
     * directory then (outside containers/storage's layout, see relativeBase), or "/" for a layer
     * given as a file descriptor of a detached mount. Neither names a directory we can open.
     */
    private static void requireLocatable(String layer, String mountPoint) {
        if (!layer.startsWith("/") || layer.equals("/")) {
            throw new IdmapUnsupportedException("overlay " + mountPoint + ": layer \"" + layer + "\" is "
                    + (layer.equals("/") ? "a file descriptor's mount" : "a path relative to its engine's working directory")
                    + ": its layers cannot be found to rebuild it on idmapped layers");
        }
    }

    private static String refusal(String mountPoint, String option, String why) {
        return "overlay " + mountPoint + ": option " + option + " cannot be kept on a rebuilt overlay (" + why
                + "); shift it with dev.idshift.backend=fuse (or --backend fuse) instead";
    }
}
