package dev.idshift.cli.commands;

import dev.idshift.app.ExitCode;
import dev.idshift.hook.Bundle;
import dev.idshift.hook.ShiftDecision;
import dev.idshift.layout.AxisPlan;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.shift.Shifter;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "maps", header = "Dry run of the hook for a bundle: maps, layout, and why.", mixinStandardHelpOptions = true,
        description = {"Dry run of the hook for a bundle: prints the container's maps, the detected on-disk",
            "layout of its rootfs, and the maps the shifted mount would carry, and why. Changes nothing."})
public final class MapsCommand implements Callable<Integer> {
    @Option(names = "--bundle", required = true, paramLabel = "DIR", description = "The OCI bundle (holds config.json).")
    Path bundleDirectory;

    @Option(names = "--pid", paramLabel = "PID", defaultValue = "0",
            description = "A running container's init: read its maps from /proc/PID (default: config.json's).")
    long pid;

    @Override
    public Integer call() {
        Bundle bundle = Bundle.load(bundleDirectory);
        ShiftDecision decision = ShiftDecision.decide(bundle, Map.of(), pid);
        PrintStream out = System.out;
        out.println("bundle:      " + bundle.directory());
        out.println("rootfs:      " + bundle.rootfs() + " (root dir owned by " + bundle.rootOwner().uid() + ":" + bundle.rootOwner().gid() + ")");
        if (decision.ids() != null) {
            out.println("container:   uids " + decision.ids().uids() + ", gids " + decision.ids().gids()
                    + " (container:host:count, from " + decision.ids().origin() + ")");
        }
        if (decision.plan().isEmpty()) {
            out.println("decision:    nothing to do - " + decision.reason());
            return ExitCode.OK;
        }
        ShiftPlan plan = decision.plan().get();
        print(out, "uid", plan.uid());
        print(out, "gid", plan.gid());
        out.println("userns:      " + (decision.annotations().backend() == dev.idshift.config.annotations.Backend.FUSE
                ? "none (the FUSE server maps ids itself)"
                : plan.reusesContainerUserns()
                ? "the container's own (on-disk ids = container ids)"
                : "a helper user namespace carrying the mount maps above"));
        switch (decision.annotations().backend()) {
            case FUSE:
                out.println("decision:    shift the rootfs with the FUSE backend (dev.idshift.backend=fuse), mount maps as above");
                break;
            case KERNEL:
                out.println("decision:    shift the rootfs with a kernel idmapped mount (dev.idshift.backend=kernel: no FUSE fallback)");
                break;
            default:
                out.println("decision:    shift the rootfs with a kernel idmapped mount (FUSE if the kernel refuses to idmap it)");
        }
        if (decision.annotations().backend() != dev.idshift.config.annotations.Backend.FUSE) {
            Shifter.Way way = Shifter.autoWayFor(bundle.rootfs().toString());
            out.println("path:        " + way.why());
        }
        return ExitCode.OK;
    }

    private static void print(PrintStream out, String kind, AxisPlan axis) {
        out.println(kind + " layout:  " + axis.layout().kind().name().toLowerCase().replace('_', ' ') + " - " + axis.layout().reason());
        out.println(kind + " on disk: " + axis.layout().containerToDisk() + " (container:disk:count)");
        out.println(kind + " mount:   " + axis.mountMap() + " (disk:host:count)");
    }
}
