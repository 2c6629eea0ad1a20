package dev.idshift.cli.commands;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Help for {@code idshift hook}. The hook itself never comes through picocli (see Main): this class
 * only exists so that {@code idshift hook --help} and {@code idshift help hook} teach.
 */
@Command(name = "hook", header = "The OCI hook: shifts a container's rootfs (runc, crun, podman).",
        mixinStandardHelpOptions = true,
        description = {
            "The OCI hook. Reads the runtime's state JSON on stdin; for a container with a user namespace whose",
            "rootfs is owned by other host ids than its own, stacks a kernel idmapped mount of the rootfs in the",
            "container's mount namespace, keeping every mount the runtime already made under it (/proc, /dev, ...).",
            "",
            "Add it to config.json as a prestart or createRuntime hook (runc and crun), or `idshift install runc --bundle DIR`:",
            "  \"hooks\": {\"createRuntime\": [{\"path\": \"/path/to/idshift/bin/idshift\", \"args\": [\"idshift\", \"hook\"]}]}",
            "",
            "podman and CRI-O (`idshift install podman`): at precreate it reads config.json on stdin, shifts root.path",
            "(and the bind mounts named in dev.idshift.mounts) onto staging mounts under /run/idshift, and prints the",
            "config pointing at them; the runtime then makes its mount targets and masks itself. poststart records",
            "the container; poststop removes the staging mounts; `idshift gc` removes those of vanished containers.",
            "",
            "On-disk layout (per uid and gid): detected from the owner of the rootfs root directory -",
            "  owned by 0: stored unshifted; owned by the container root's host id: nothing to do;",
            "  owned by B: stored at offset B (container id c is on-disk id B+c).",
            "Annotations (config.json or the runtime's --annotation):",
            "  dev.idshift.disable=true         leave this container untouched",
            "  dev.idshift.fsidmap=C:D:N[,...]  container id C is stored on disk as D (uids and gids)",
            "  dev.idshift.fs-uidmap / dev.idshift.fs-gidmap   the same for one kind of id",
            "  dev.idshift.backend=auto|kernel|fuse  auto: idmapped mounts, FUSE where the kernel refuses;",
            "                                   fuse: always FUSE (add the hook at poststop too: it stops the server)",
            "  dev.idshift.mounts=/a,/b | *     precreate: bind mounts to shift too, each with its own layout",
            "  dev.idshift.enable=true          podman hooks.d: run idshift for this container",
            "Under crun, the hook re-applies linux.maskedPaths/readonlyPaths on the shifted root (crun applies",
            "them through a rootfs fd opened before hooks); root.readonly is kept under both runtimes.",
            "",
            "Exit codes: 0 done or nothing to do, 3 bad input (message names the JSON path), 4 the kernel refused,",
            "5 unsupported (e.g. the filesystem cannot be idmapped). See `idshift maps --bundle DIR` for a dry run."})
public final class HookHelpCommand implements Runnable {
    @Parameters(arity = "0..1", paramLabel = "STAGE",
            description = "precreate, prestart, createRuntime, poststart or poststop; default: from the input and the state's status")
    String stage;

    @Override
    public void run() {
        throw new IllegalStateException("unreachable: idshift hook runs on its own fast path");
    }
}
