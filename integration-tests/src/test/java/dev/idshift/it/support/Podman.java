package dev.idshift.it.support;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * podman (4.3 with runc) as it works on this VM: vfs storage, cgroupfs, no network, the two ulimits
 * without which runc cannot set rlimits in a user namespace, and a private storage root and hooks
 * directory (with `idshift install podman`) under a scratch directory. Options must come before
 * `--rootfs PATH`: podman reads everything after the rootfs as the command.
 */
public final class Podman implements AutoCloseable {
    private final Path storage;
    private final Path hooks;
    private final Path run;

    private Podman(Path storage, Path hooks, Path run) {
        this.storage = storage;
        this.hooks = hooks;
        this.run = run;
    }

    public static Podman in(Scratch scratch) throws IOException {
        return in(scratch, List.of());
    }

    /**
     * With its hooks' run directory (IDSHIFT_RUN_DIR) in the scratch directory, this test's own: its
     * staging records and mounts are the only ones there ({@link #runDirectory}), and an `idshift gc`
     * given it ({@link #gc}) sees and removes nothing another run on the machine staged.
     */
    public static Podman withOwnRunDirectory(Scratch scratch) throws IOException {
        Path run = scratch.dir("run");
        return in(scratch, List.of("--env", "IDSHIFT_RUN_DIR=" + run), run);
    }

    /** With extra `idshift install podman` arguments (e.g. --env IDSHIFT_RUN_DIR=...). */
    public static Podman in(Scratch scratch, List<String> installArguments) throws IOException {
        return in(scratch, installArguments, null);
    }

    private static Podman in(Scratch scratch, List<String> installArguments, Path run) throws IOException {
        Host.requireRoot();
        Host.requireExecutable("podman");
        Host.requireExecutable("runc");
        Path hooks = scratch.dir("hooks.d");
        List<String> install = new ArrayList<>(List.of(Host.launcher().toString(), "install", "podman", "--hooks-dir", hooks.toString()));
        install.addAll(installArguments);
        Exec.Result installed = Exec.run(install);
        if (installed.exit() != 0) {
            throw new IllegalStateException("idshift install podman failed: " + installed.describe());
        }
        return new Podman(scratch.dir("podman"), hooks, run);
    }

    /** The hooks' run directory, when it is this test's own ({@link #withOwnRunDirectory}). */
    public Path runDirectory() {
        if (run == null) {
            throw new IllegalStateException("this podman's hooks use the machine's run directory");
        }
        return run;
    }

    /** {@code idshift gc ARGUMENTS...} over this podman's own run directory. */
    public Exec.Result gc(String... arguments) {
        List<String> command = new ArrayList<>(List.of(Host.launcher().toString(), "gc"));
        command.addAll(List.of(arguments));
        return Exec.run(command, null, Map.of("IDSHIFT_RUN_DIR", runDirectory().toString()), 60);
    }

    public List<String> command(String... arguments) {
        List<String> command = new ArrayList<>(List.of("podman", "--root", storage.resolve("root").toString(),
                "--runroot", storage.resolve("run").toString(), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                "--runtime", "runc", "--hooks-dir", hooks.toString()));
        command.addAll(List.of(arguments));
        return command;
    }

    /**
     * Waits until podman has removed every container it ran here: with --rm, conmon runs `podman
     * container cleanup` asynchronously after the container exits, and it writes to the storage root.
     */
    @Override
    public void close() throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            Exec.Result containers = Exec.run(command("ps", "--all", "--quiet"), null, Map.of(), 60);
            if (containers.exit() == 0 && containers.stdout().isBlank()) {
                return;
            }
            Thread.sleep(200);
        }
    }

    /** podman run OPTIONS... (userns 0 -> hostBase) --rootfs ROOTFS /bin/sh -c SCRIPT */
    public Exec.Result run(List<String> options, long hostBase, Path rootfs, String script) {
        List<String> arguments = new ArrayList<>(List.of("run", "--uidmap", "0:" + hostBase + ":65536", "--gidmap", "0:" + hostBase + ":65536",
                "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", "--net", "none"));
        arguments.addAll(options);
        arguments.addAll(List.of("--rootfs", rootfs.toString(), "/bin/sh", "-c", script));
        return Exec.run(command(arguments.toArray(new String[0])), null, Map.of(), 180);
    }
}
