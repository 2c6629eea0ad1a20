package dev.idshift.it.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * runc or crun, run for real. Every container gets a unique id and is deleted by that id
 * afterwards, whatever happened.
 *
 * <p>crun refuses this VM's hybrid cgroup layout, so it runs inside a private mount namespace with
 * a pure cgroup2 tree and its cgroup manager disabled (see shared/notes).
 */
public enum Runtime {
    RUNC("runc"), CRUN("crun");

    private final String binary;

    Runtime(String binary) {
        this.binary = binary;
    }

    public String binary() {
        return binary;
    }

    public void require() {
        Host.requireRoot();
        Host.requireExecutable(binary);
    }

    public static String newId() {
        return "idshift-it-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Runs the bundle's process to completion in the foreground. */
    public Exec.Result run(Path bundle) {
        String id = newId();
        try {
            return run(bundle, id);
        } finally {
            delete(id);
        }
    }

    /** The same as container {@code id} ({@link #newId}), kept for the caller to look at and {@link #delete}. */
    public Exec.Result run(Path bundle, String id) {
        return Exec.run(command(List.of("run", "--bundle", bundle.toString(), id)), null, Map.of(), 120);
    }

    /** Starts the bundle's process detached (its command should wait); delete it with {@link #delete}. */
    public Exec.Result runDetached(Path bundle, String id) {
        // The detached container would inherit our pipes and keep them open: give it /dev/null.
        List<String> run = command(List.of("run", "--detach", "--bundle", bundle.toString(), id));
        List<String> quiet = new ArrayList<>(List.of("sh", "-c", "\"$@\" </dev/null >/dev/null 2>&1", "sh"));
        quiet.addAll(run);
        return Exec.run(quiet, null, Map.of(), 120);
    }

    public Exec.Result exec(String id, String script) {
        return Exec.run(command(List.of("exec", id, "/bin/sh", "-c", script)), null, Map.of(), 60);
    }

    public void delete(String id) {
        Exec.run(command(List.of("delete", "--force", id)), null, Map.of(), 60);
    }

    private List<String> command(List<String> arguments) {
        List<String> command = new ArrayList<>();
        if (this == CRUN) {
            String quoted = String.join(" ", arguments.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").toList());
            command.add("unshare");
            command.add("-m");
            command.add("--propagation");
            command.add("private");
            command.add("sh");
            command.add("-c");
            command.add("umount -R /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup"
                    + " && exec crun --cgroup-manager=disabled " + quoted);
        } else {
            command.add(binary);
            command.addAll(arguments);
        }
        return command;
    }
}
