package dev.idshift.it.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A shifted view made by {@code idshift mount --backend fuse}, closed with {@code idshift umount};
 * if the server is still alive after that (a failing test), it is killed by its pid, never by name.
 */
public final class FuseView implements AutoCloseable {
    private static final Pattern SERVER_PID = Pattern.compile("server pid (\\d+)");

    private final Path view;
    private final long serverPid;
    private final String mountOutput;

    private FuseView(Path view, long serverPid, String mountOutput) {
        this.view = view;
        this.serverPid = serverPid;
        this.mountOutput = mountOutput;
    }

    /** Mounts SOURCE shifted at VIEW with {@code mapArgs} (e.g. "--uidmap", "0:100000:65536"). */
    public static FuseView mount(Path source, Path view, String... mapArgs) {
        return mount(source, view, java.util.Map.of(), mapArgs);
    }

    /** The same, with {@code environment} added to the mount command's (and so its server's). */
    public static FuseView mount(Path source, Path view, java.util.Map<String, String> environment, String... mapArgs) {
        List<String> command = new ArrayList<>(List.of(Host.launcher().toString(), "mount", "--backend", "fuse"));
        command.addAll(List.of(mapArgs));
        command.add(source.toString());
        command.add(view.toString());
        Exec.Result mounted = Exec.run(command, null, environment, 60);
        if (mounted.exit() != 0) {
            throw new IllegalStateException("mount failed: " + mounted.describe());
        }
        Matcher pid = SERVER_PID.matcher(mounted.stdout());
        if (!pid.find()) {
            throw new IllegalStateException("no server pid in: " + mounted.describe());
        }
        return new FuseView(view, Long.parseLong(pid.group(1)), mounted.stdout());
    }

    public Path path() {
        return view;
    }

    public Path resolve(String name) {
        return view.resolve(name);
    }

    public long serverPid() {
        return serverPid;
    }

    public String mountOutput() {
        return mountOutput;
    }

    /** Running (a zombie waiting for init to reap it is not). */
    public boolean serverAlive() {
        try {
            String stat = Files.readString(Path.of("/proc/" + serverPid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    public Exec.Result umount() {
        return Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
    }

    @Override
    public void close() {
        if (MountTable.snapshot().stream().anyMatch(line -> line.startsWith(view + " "))) {
            Exec.Result result = umount();
            if (result.exit() != 0) {
                Exec.run(List.of("umount", "-l", view.toString()));
            }
        }
        // Still serving after umount (a failing test): kill it by pid, if that pid is still this view's server.
        ProcessHandle.of(serverPid).filter(process -> process.info().arguments()
                .map(arguments -> List.of(arguments).contains(view.toString())).orElse(false))
                .ifPresent(ProcessHandle::destroyForcibly);
    }
}
