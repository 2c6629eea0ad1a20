package dev.idshift.hook;

import dev.idshift.failure.KernelRefusedException;
import dev.idshift.failure.BadInputException;
import dev.idshift.app.FuseServerCommand;
import dev.idshift.config.annotations.Backend;
import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.config.oci.MountEntry;
import dev.idshift.config.oci.Namespace;
import dev.idshift.config.oci.OciConfig;
import dev.idshift.config.oci.OciReader;
import dev.idshift.idmap.IdMap;
import dev.idshift.layout.Owner;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.MountAccess;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.fuse.FuseBackend;
import dev.idshift.shift.Shifter;
import dev.idshift.staging.StagingTeardown;
import dev.idshift.staging.StagedMount;
import dev.idshift.staging.StagingRecord;
import dev.idshift.staging.StagingStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The precreate stage (podman, CRI-O): config.json on stdin, the config to use on stdout. Shifts
 * the rootfs (and the bind mounts named in dev.idshift.mounts) onto staging mounts before the
 * runtime starts, and points root.path and the mounts' sources at them. The runtime then creates its
 * mount targets (/etc/hosts, /run/.containerenv, ...) as the container's root through the shifted
 * view, which the prestart path cannot offer, and applies every mask itself.
 *
 * <p>The config is tagged dev.idshift.staging=S, a secret; the mounts live under KEY = hash of S
 * (StagingStore.keyOf), closed to everyone but root and the container's root. poststart records
 * which container uses KEY's mounts; poststop removes them. They must outlive the start: runc's exec
 * chdirs into the rootfs path.
 */
final class PrecreateStage {
    private PrecreateStage() {
    }

    /**
     * @param creatorPid the process that ran the hook (podman), recorded so gc knows when it is gone; -1 if unknown
     * @return the key of the staging made, or null if none was needed
     */
    static String run(JsonObjectView document, StagingStore store, OutputStream out, long creatorPid) {
        OciConfig config = OciReader.config(document);
        IdshiftAnnotations annotations = IdshiftAnnotations.from(config.annotations(), "config on stdin");
        ContainerStaging staging = null;
        String staged = null;
        if (annotations.staging().isPresent()) {
            throw new BadInputException("config on stdin: $.annotations[\"" + IdshiftAnnotations.STAGING + "\"]: is set;"
                    + " only idshift's precreate stage sets it");
        }
        if (!annotations.disable() && config.linux().namespace(Namespace.USER).isPresent()) {
            ContainerIds ids = ContainerIds.of(0, config.linux().uidMappings(), config.linux().gidMappings());
            // The config carries the secret; the mounts and the record are named by its hash (StagingStore).
            String secret = StagingStore.newSecret();
            staging = new ContainerStaging(ids, annotations.backend(), store, StagingStore.keyOf(secret));
            try {
                stageRootfs(document, config, annotations, staging);
                stageVolumes(document, config, annotations, staging);
                if (!staging.staged.isEmpty()) {
                    store.save(new StagingRecord(staging.key, System.currentTimeMillis(), staging.staged, null, creator(creatorPid)));
                    annotationsOf(document).put(IdshiftAnnotations.STAGING, secret);
                    staged = staging.key;
                }
            } catch (RuntimeException | Error e) {
                staging.tearDown();
                throw e;
            }
        }
        try {
            JsonTree.write(document.members(), out);
            out.flush();
        } catch (RuntimeException | IOException e) {
            // The runtime will not get our config: leave nothing behind.
            if (staging != null && !staging.staged.isEmpty()) {
                staging.tearDown();
            }
            throw e instanceof IOException ? new KernelRefusedException("cannot write the config to stdout: " + e.getMessage(), (IOException) e)
                    : (RuntimeException) e;
        }
        return staged;
    }

    private static void stageRootfs(JsonObjectView document, OciConfig config, IdshiftAnnotations annotations, ContainerStaging staging) {
        Path rootfs = Path.of(config.root().path());
        if (!rootfs.isAbsolute()) {
            throw new BadInputException("config on stdin: $.root.path: \"" + rootfs + "\" is relative; at the precreate stage"
                    + " there is no bundle to resolve it against");
        }
        ExplicitLayout explicit = ExplicitLayout.from(annotations, "config on stdin");
        Optional<String> shifted = staging.stage(new TreeToStage(realSource(rootfs, "$.root.path", false), "/", "rootfs",
                explicit.uids(), explicit.gids(), true));
        if (shifted.isPresent()) {
            rootObject(document).put("path", shifted.get());
        }
    }

    private static void stageVolumes(JsonObjectView document, OciConfig config, IdshiftAnnotations annotations, ContainerStaging staging) {
        if (annotations.mounts().isEmpty()) {
            return;
        }
        boolean all = annotations.mounts().contains("*");
        List<JsonObjectView> mountObjects = document.objectArray("mounts");
        for (int i = 0; i < config.mounts().size(); i++) {
            MountEntry mount = config.mounts().get(i);
            if (!mount.isBind() || !(all || annotations.mounts().contains(mount.destination())) || mount.source().isEmpty()) {
                continue;
            }
            // Files too: engines bind /etc/hosts, resolv.conf and hostname, and "*" means every bind.
            Path source = realSource(Path.of(mount.source().get()), "$.mounts[" + i + "].source", true);
            // Each volume's own layout, detected from its own root directory.
            Optional<String> shifted = staging.stage(new TreeToStage(source, mount.destination(), "volume-" + i,
                    Optional.empty(), Optional.empty(), mount.options().contains("rbind")));
            if (shifted.isPresent()) {
                mountObjects.get(i).members().put("source", shifted.get());
            }
        }
        for (String wanted : annotations.mounts()) {
            if (!wanted.equals("*") && !hasBind(config, wanted)) {
                throw new BadInputException("config on stdin: $.annotations[\"" + IdshiftAnnotations.MOUNTS + "\"]: " + wanted
                        + " is not the destination of a bind mount in $.mounts");
            }
        }
    }

    /**
     * One tree to stage: its real path, where the container sees it, the name of its mount point
     * under the staging directory, the on-disk maps the annotations give (else its layout is
     * detected from its own root), and whether the mounts beneath it come along (rbind).
     */
    private record TreeToStage(Path source, String destination, String name, Optional<IdMap> explicitUids,
                               Optional<IdMap> explicitGids, boolean recursive) {
    }

    /**
     * One container's staging: its ids, the backend its annotations ask for, and the mount points
     * under KEY made so far (the record lists them; a failure part-way removes them all).
     */
    private static final class ContainerStaging {
        private final ContainerIds ids;
        private final Backend backend;
        private final StagingStore store;
        private final String key;
        private final List<StagedMount> staged = new ArrayList<>();

        ContainerStaging(ContainerIds ids, Backend backend, StagingStore store, String key) {
            this.ids = ids;
            this.backend = backend;
            this.store = store;
            this.key = key;
        }

        /** Shifts one tree onto KEY's staging directory NAME; empty when its layout needs no shift. */
        Optional<String> stage(TreeToStage tree) {
            Path source = tree.source();
            Owner owner;
            try {
                owner = Owner.of(source);
            } catch (IOException e) {
                throw new BadInputException("cannot read the owner of " + source + ": " + e.getMessage());
            }
            ShiftPlan plan = ShiftPlanner.plan(ids.uids(), ids.gids(), owner.uid(), owner.gid(), tree.explicitUids(),
                    tree.explicitGids(), "annotation");
            if (plan.isNoop()) {
                return Optional.empty();
            }
            // Reachable by root and the container's root only: runc init binds it as the container's root.
            boolean file = !Files.isDirectory(source);
            long containerRootGid = ids.gids().toOutside(0);
            String mountPoint = (file ? store.newFileMountPoint(key, tree.name(), containerRootGid)
                    : store.newMountPoint(key, tree.name(), containerRootGid)).toString();
            ShiftRequest request = ShiftRequest.of(source.toString(), Shifter.shapeOf(source.toString()), LayerMaps.like(plan),
                    MountAccess.CONTAINER);
            // A FUSE server mounts on the staging mount point itself (poststop finds it there), and its clone goes back there.
            FuseBackend fuse = new FuseBackend(FuseServerCommand.SERVERS, FuseRegistry.fromEnvironment(),
                    FuseBackend.ServerPlace.at(mountPoint));
            try (UsernsPool namespaces = new UsernsPool();
                 ShiftedTree shifted = Shifter.standard(namespaces, fuse).shift(tree.recursive() ? request.withSubmounts() : request, backend)) {
                IdmappedTrees.kernel().attach(shifted.tree(), mountPoint);
            }
            staged.add(new StagedMount(source.toString(), mountPoint, tree.destination()));
            return Optional.of(mountPoint);
        }

        /** The runtime will not get our config, or a tree failed: leave nothing behind. */
        void tearDown() {
            StagingTeardown.remove(store, FuseRegistry.fromEnvironment(), key);
        }
    }

    private static StagingRecord.Creator creator(long pid) {
        long startTime = pid > 0 ? StagingStore.processStartTime(pid) : -1;
        return startTime < 0 ? null : new StagingRecord.Creator(pid, startTime);
    }

    /** The real path of a directory (or, where {@code fileToo}, a regular file) to shift. */
    private static Path realSource(Path path, String jsonPath, boolean fileToo) {
        try {
            Path real = path.toRealPath();
            if (!Files.isDirectory(real) && !(fileToo && Files.isRegularFile(real))) {
                throw new BadInputException("config on stdin: " + jsonPath + ": " + path + " is not a directory"
                        + (fileToo ? " or a regular file" : ""));
            }
            return real;
        } catch (IOException e) {
            throw new BadInputException("config on stdin: " + jsonPath + ": " + path + " does not exist");
        }
    }

    private static boolean hasBind(OciConfig config, String destination) {
        for (MountEntry mount : config.mounts()) {
            if (mount.isBind() && mount.destination().equals(destination)) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Object> rootObject(JsonObjectView document) {
        return document.optObject("root").get().members();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> annotationsOf(JsonObjectView document) {
        Object annotations = document.members().get("annotations");
        if (!(annotations instanceof Map)) {
            annotations = new java.util.LinkedHashMap<String, Object>();
            document.members().put("annotations", annotations);
        }
        return (Map<String, Object>) annotations;
    }
}
