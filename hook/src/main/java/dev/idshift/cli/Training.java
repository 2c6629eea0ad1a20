package dev.idshift.cli;

import dev.idshift.app.ExitCode;
import dev.idshift.app.HookServing;
import dev.idshift.hook.HookMain;
import dev.idshift.hook.HookTraining;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code idshift __train}: runs the real hook, in dry-run mode, on a throwaway bundle, so the
 * launcher can record a class-data-sharing archive (JDK 17) or AOT cache (JDK 25) of exactly the
 * classes a hook loads. Then once more on bad input, for the error path. Not for people.
 */
final class Training {
    static final String COMMAND = "__train";
    /** The same, then a FUSE server's training (FuseTraining): the archive of a hook's JVM that serves (app.HookServing). */
    static final String SERVING_COMMAND = "__train-hook-fuse";

    private Training() {
    }

    /**
     * A hook's JVM that serves its container's FUSE mount (app.HookServing): the hook's training, a
     * server's (FuseTraining), and the classes of serving in-process and of mounting, which neither
     * loads without mounting.
     */
    static int runServing() {
        int code = Math.max(run(), FuseTraining.run());
        try {
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            java.nio.channels.Channels.newInputStream(pipe.source()).close();
            java.nio.channels.Channels.newOutputStream(pipe.sink()).close();
            // HookServing: run() loaded it; FuseServer, FuseDevice, FuseSession: FuseTraining.run did.
            FuseTraining.load("dev.idshift.backend.fuse.InProcessFuseServers",
                    "dev.idshift.backend.fuse.InProcessFuseServers$ServingThread",
                    "dev.idshift.backend.fuse.InProcessFuseServers$1", "dev.idshift.hook.RootfsShift$1",
                    "dev.idshift.backend.fuse.FuseBackend$1", "dev.idshift.backend.fuse.FuseMounts", "dev.idshift.backend.fuse.FuseMounts$1",
                    "dev.idshift.backend.fuse.FuseServerProcesses$1", "dev.idshift.backend.MountMaps", "dev.idshift.hook.NestedShift",
                    "dev.idshift.staging.StagingRecord", "dev.idshift.staging.StagedMount", "dev.idshift.staging.StagingRecord$ContainerProcess",
                    "dev.idshift.backend.kernel.RootfsInjector$1", "dev.idshift.staging.StagingStore$Held");
        } catch (IOException | LinkageError e) {
            System.err.println("idshift: training: " + e);
            return ExitCode.SYSTEM;
        }
        return code;
    }

    static int run() {
        Path bundle = null;
        try {
            int code = HookTraining.walk(1);
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            // Through HookServing.finish, as Main runs every hook: without it (a no-op here, no result fd)
            // that class came from the jar, not the archive, at each hook's start.
            HookServing.finish(HookMain.run(new String[] {"hook"}, new ByteArrayInputStream("{\"id\":1}".getBytes(StandardCharsets.UTF_8)),
                    quiet, quiet, true));
            // The precreate stage's read-and-write-back path (no user namespace: nothing is mounted).
            bundle = Files.createTempDirectory("idshift-train-");
            Files.createDirectory(bundle.resolve("rootfs"));
            String precreate = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"" + bundle.resolve("rootfs") + "\"},"
                    + "\"process\":{\"args\":[\"sh\"]},\"annotations\":{\"dev.idshift.enable\":\"true\"}}";
            HookMain.run(new String[] {"hook", "precreate"}, new ByteArrayInputStream(precreate.getBytes(StandardCharsets.UTF_8)),
                    quiet, quiet, true);
            // poststart/poststop derive the staging key from the annotation's secret (SHA-256): without
            // its JCA classes in the archive, a poststop pays ~6 ms more.
            dev.idshift.staging.StagingStore.keyOf(dev.idshift.staging.StagingStore.newSecret());
            return code;
        } catch (IOException e) {
            System.err.println("idshift: training: " + e.getMessage());
            return ExitCode.SYSTEM;
        } finally {
            if (bundle != null) {
                try {
                    Files.deleteIfExists(bundle.resolve("rootfs"));
                    Files.deleteIfExists(bundle);
                } catch (IOException ignored) {
                    // a temp dir left behind is harmless
                }
            }
        }
    }
}
