package dev.idshift.cli.commands;

import dev.idshift.config.oci.MountEntry;
import dev.idshift.hook.Bundle;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Mount destinations of a bundle that do not exist in its rootfs. A destination inside another
 * mount (e.g. /dev/pts inside the /dev tmpfs) is created in that mount, not in the image, so it
 * does not count.
 */
final class MissingMountTargets {
    private MissingMountTargets() {
    }

    static List<String> of(Bundle bundle) {
        List<MountEntry> mounts = bundle.config().mounts();
        List<String> missing = new ArrayList<>();
        for (MountEntry mount : mounts) {
            String destination = mount.destination();
            if (insideAnotherMount(destination, mounts)) {
                continue;
            }
            Path target = bundle.rootfs().resolve(destination.startsWith("/") ? destination.substring(1) : destination);
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                missing.add(destination);
            }
        }
        return missing;
    }

    private static boolean insideAnotherMount(String destination, List<MountEntry> mounts) {
        for (MountEntry other : mounts) {
            String parent = other.destination().endsWith("/") ? other.destination() : other.destination() + "/";
            if (!other.destination().equals(destination) && destination.startsWith(parent)) {
                return true;
            }
        }
        return false;
    }
}
