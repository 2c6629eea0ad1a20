package dev.idshift.cli.commands;

import dev.idshift.failure.UnsupportedException;
import dev.idshift.failure.BadInputException;
import dev.idshift.app.ExitCode;
import dev.idshift.config.annotations.Backend;
import dev.idshift.daemon.client.DaemonClient;
import dev.idshift.marks.MarkSafety;
import dev.idshift.backend.MountAccess;
import dev.idshift.daemon.protocol.Protocol;
import dev.idshift.daemon.protocol.Request;
import dev.idshift.daemon.protocol.Response;
import dev.idshift.app.FuseServerCommand;
import dev.idshift.backend.fuse.FuseBackend;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.kernel.IdmappedTrees;
import dev.idshift.backend.kernel.ShiftedMounts;
import dev.idshift.shift.Shifter;
import dev.idshift.backend.ShiftRequest;
import dev.idshift.backend.LayerMaps;
import dev.idshift.backend.ShiftedTree;
import dev.idshift.backend.kernel.UsernsPool;
import dev.idshift.sys.credentials.Credentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mount", header = "Mount a directory with uids and gids shifted, like shiftfs.",
        mixinStandardHelpOptions = true,
        description = {
            "Mounts SRC at DST with ids shifted, like shiftfs: a file owned by on-disk id D appears owned by the",
            "host id the map gives for D; files created through DST are stored with the on-disk ids they map",
            "back to. Ids the map does not cover show as 65534 (nobody) and cannot be written.",
            "",
            "Examples:",
            "  idshift mount --uidmap 0:100000:65536 /srv/image /srv/shifted     (uids and gids alike)",
            "  idshift mount -o uidmap=0:100000:1000,1000:1000:1,gidmap=0:100000:1000 /srv/image /mnt",
            "  ls -ln /srv/shifted; idshift umount /srv/shifted",
            "",
            "An overlay mount as SRC (the kernel will not idmap one) is mounted again on idmapped clones of its",
            "layers, with the same options. See README, Overlay rootfs."})
public final class MountCommand implements Callable<Integer> {
    @Option(names = "--uidmap", paramLabel = "DISK:HOST:COUNT",
            description = "On-disk uids DISK..DISK+COUNT-1 appear as HOST..; repeat or comma-separate for more extents.")
    List<String> uidMaps = new ArrayList<>();

    @Option(names = "--gidmap", paramLabel = "DISK:HOST:COUNT", description = "The same for gids (default: as --uidmap).")
    List<String> gidMaps = new ArrayList<>();

    @Option(names = "-o", paramLabel = "OPTIONS", description = {"shiftfs-style options: uidmap=D:H:N[,D:H:N...],gidmap=...,ro|rw,"
            + "suid,dev.",
            "The view is nosuid,nodev unless suid / dev are given: through it, a setuid file owned by on-disk root runs"
            + " as the host id root maps to, for anyone who can reach DST."})
    String options;

    @Option(names = "--backend", paramLabel = "auto|kernel|fuse", defaultValue = "auto",
            description = {"auto (default): the kernel's idmapped mounts where the kernel can idmap SRC's filesystem,"
                    + " else FUSE; the output says which.",
                    "kernel: idmapped mounts only. fuse: a FUSE server (its own process, until idshift umount)."})
    String backend;

    @Option(names = "--daemon", description = "Ask the idshift daemon (automatic when not root in the host's user namespace).")
    boolean viaDaemon;

    @Option(names = "--socket", paramLabel = "PATH", description = "The daemon's socket (default: $IDSHIFT_SOCKET or /run/idshift/idshift.sock).")
    Path socket;

    @Parameters(index = "0", paramLabel = "SRC", description = "Directory to shift.")
    Path source;

    @Parameters(index = "1", paramLabel = "DST", description = "Existing directory to mount the shifted view on.")
    Path target;

    @Override
    public Integer call() throws Exception {
        Backend chosen = Backend.fromWord(backend);
        if (chosen == null) {
            throw new BadInputException("--backend: \"" + backend + "\" is not a backend; expected auto, kernel or fuse");
        }
        MapOptions maps = MapOptions.from(uidMaps, gidMaps, options);
        Path realTarget = directory(target, "DST");
        warnIfReachable(maps.access(), realTarget);
        String how;
        Path realSource = source.toAbsolutePath().normalize();
        MountAccess granted = maps.access();
        String limits = disabled(granted);
        if (viaDaemon || !privileged()) {
            if (chosen == Backend.FUSE) {
                throw new UnsupportedException("--backend fuse: the FUSE server runs as root in the host's user"
                        + " namespace; run idshift mount as root, or leave --backend auto (the daemon makes a FUSE view itself where the kernel will not idmap)");
            }
            // SRC is resolved by the daemon, beneath its mark: the caller may not even be able to reach it.
            // The daemon resolves SRC in the host's view; pass what the user typed, made absolute.
            String requested = source.toAbsolutePath().normalize().toString();
            DaemonClient daemon = new DaemonClient(socket != null ? socket : Protocol.socketFromEnvironment());
            try (Response.Shifted mount = daemon.mount(new Request.Mount(requested, maps.uidMap(), maps.gidMap(), maps.readonly()))) {
                ShiftedMounts.restrict(mount.tree(), maps.access(), realTarget.toString());
                IdmappedTrees.kernel().attach(mount.tree(), realTarget.toString());
                how = "made by the idshift daemon, backend " + mount.backend().word() + (mount.backend() == Response.Backend.FUSE
                        ? ": a FUSE view, the kernel will not idmap SRC's filesystem" : ": a kernel idmapped mount");
            }
            // The daemon hands out nodev mounts only, and the caller cannot take that off (-o dev or not).
            granted = new MountAccess(granted.readonly(), granted.suid(), false);
            limits = (granted.suid() ? "" : ": setuid files do not work through it (-o suid to allow)")
                    + "; device nodes never work through the daemon's mounts";
        } else {
            realSource = directory(source, "SRC");
            // A FUSE server mounts on DST itself (idshift umount finds it there), and its clone goes back there.
            FuseBackend fuse = new FuseBackend(FuseServerCommand.SERVERS, FuseRegistry.fromEnvironment(),
                    FuseBackend.ServerPlace.at(realTarget.toString()));
            ShiftRequest request = ShiftRequest.of(realSource.toString(), Shifter.shapeOf(realSource.toString()),
                    LayerMaps.fixed(maps.uidMap(), maps.gidMap()), maps.access());
            try (UsernsPool namespaces = new UsernsPool();
                 ShiftedTree tree = Shifter.standard(namespaces, fuse).shift(request, chosen)) {
                IdmappedTrees.kernel().attach(tree.tree(), realTarget.toString());
                how = tree.how();
            }
        }
        System.out.println("idshift: mounted " + realSource + " on " + realTarget + " (" + how + "; uids "
                + maps.uidMap() + ", gids " + maps.gidMap() + "; " + granted.words() + limits + ")");
        return ExitCode.OK;
    }

    /**
     * A view with setuid files (or device nodes) working, at a path other users can reach, lets them
     * run the view's setuid files as the ids those map to: say so. Which paths others can reach is
     * what `idshift mark` checks too (MarkSafety).
     */
    private static void warnIfReachable(MountAccess access, Path target) {
        if (!access.suid() && !access.dev()) {
            return;
        }
        List<String> problems = MarkSafety.problems(target, Path.of("/etc")); // ACLs and group members count here too
        if (!problems.isEmpty()) {
            String option = access.suid() && access.dev() ? "suid,dev" : access.suid() ? "suid" : "dev";
            String risk = access.suid() && access.dev() ? "run its setuid files as their owners' mapped ids and open its device nodes"
                    : access.suid() ? "run its setuid files as their owners' mapped ids" : "open its device nodes";
            System.err.println("idshift: warning: -o " + option + " at " + target + ", which other users can reach: they can "
                    + risk + " (" + String.join("; ", problems) + ")");
        }
    }

    /** What the view does not allow, and how to ask for it; empty when it allows both. */
    private static String disabled(MountAccess access) {
        if (!access.suid() && !access.dev()) {
            return ": setuid files and device nodes do not work through it (-o suid,dev to allow)";
        }
        if (!access.suid()) {
            return ": setuid files do not work through it (-o suid to allow)";
        }
        if (!access.dev()) {
            return ": device nodes do not work through it (-o dev to allow)";
        }
        return "";
    }

    /** Root in the host's user namespace: can idmap host filesystems itself. */
    private static boolean privileged() {
        return Credentials.get().geteuid() == 0 && dev.idshift.backend.kernel.UserNamespaces.inInitialNamespace();
    }

    static Path directory(Path path, String label) throws java.io.IOException {
        if (!Files.isDirectory(path)) {
            throw new BadInputException(label + " " + path + " is not an existing directory");
        }
        return path.toRealPath();
    }
}
