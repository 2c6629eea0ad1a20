package dev.idshift.cli.commands;

import dev.idshift.app.ExitCode;
import dev.idshift.staging.StagingRecord;
import dev.idshift.staging.StagingTeardown;
import dev.idshift.backend.fuse.FuseMountRecord;
import dev.idshift.backend.fuse.FuseMounts;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.backend.kernel.MountInfo;
import dev.idshift.staging.StagingStore;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gc", header = "Remove staging left by containers that are gone.", mixinStandardHelpOptions = true,
        description = {"Removes staging mounts the precreate stage made for containers that are gone without a poststop",
            "(a failed start, a killed runtime): those whose container's init has exited; those that never reached",
            "poststart and whose precreate caller (podman) has exited, so nothing will start them (a failed create runs",
            "no poststop), unless a process is pivoted into their rootfs (created, not started); and those that never",
            "reached poststart within the grace period. Running containers keep theirs. Hook stages remove the first two",
            "kinds by themselves. Also the records of FUSE servers that are gone, and record directories a server start",
            "left without a record, once nothing has written to them for 60 s (a start gives up after 30 s).",
            "/run is a tmpfs: a reboot needs no gc."})
public final class GcCommand implements Callable<Integer> {
    @Option(names = "--older-than", paramLabel = "SECONDS", defaultValue = "600",
            description = "Grace period for staging whose container never reached poststart (default ${DEFAULT-VALUE} s:"
                    + " a container being started right now keeps its own).")
    long olderThanSeconds;

    @Option(names = {"-n", "--dry-run"}, description = "Say what would be removed, remove nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        StagingStore store = StagingStore.fromEnvironment();
        long now = System.currentTimeMillis();
        int removed = 0;
        List<StagingRecord> records = new ArrayList<>(store.orphans());
        for (String key : store.keys()) {
            try {
                records.add(store.load(key));
            } catch (NoSuchFileException e) {
                // removed meanwhile by its poststop
            }
        }
        for (StagingRecord record : records) {
            String key = record.key();
            if (!StagingStore.isStale(record, now, olderThanSeconds * 1000)) {
                continue;
            }
            System.out.println((dryRun ? "would remove " : "removed ") + key + (record.mounts().isEmpty()
                    ? " (no record: a precreate that did not finish)"
                    : " (" + record.mounts().size() + " mount" + (record.mounts().size() == 1 ? "" : "s")
                            + ", from " + record.mounts().get(0).source() + ")"));
            if (!dryRun) {
                StagingTeardown.remove(store, FuseRegistry.fromEnvironment(), key);
            }
            removed++;
        }
        // FUSE servers' records left by a server killed with its mount already gone.
        FuseRegistry servers = FuseRegistry.fromEnvironment();
        for (FuseMountRecord server : servers.all()) {
            if (FuseMounts.ours(server).isEmpty() && MountInfo.fsTypeAt(server.target()).isEmpty()) {
                System.out.println((dryRun ? "would remove" : "removed") + " the record of FUSE server " + server.pid()
                        + " (gone; it served " + server.target() + ")");
                if (!dryRun) {
                    servers.remove(servers.entryOf(server.key()));
                }
                removed++;
            }
        }
        // Record directories a FUSE server start left without a record (its starter killed, its server
        // unable to start), untouched long enough that no start is still writing them.
        for (Path entry : servers.abandoned(now)) {
            System.out.println((dryRun ? "would remove " : "removed ") + entry + " (no record: a FUSE server start that did not finish)");
            if (!dryRun) {
                servers.remove(entry);
            }
            removed++;
        }
        if (removed == 0) {
            System.out.println("nothing to remove under " + store.root());
        }
        return ExitCode.OK;
    }
}
