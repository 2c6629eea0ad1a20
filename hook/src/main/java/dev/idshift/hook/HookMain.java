package dev.idshift.hook;

import dev.idshift.failure.BadInputException;
import dev.idshift.app.ErrorReporter;
import dev.idshift.app.ExitCode;
import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.config.oci.OciReader;
import dev.idshift.config.oci.OciState;
import dev.idshift.backend.fuse.FuseRegistry;
import dev.idshift.staging.StagingStore;
import dev.idshift.staging.StagingTeardown;
import dev.idshift.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code idshift hook [STAGE]}: the OCI hook, on its fast path (no picocli, no databind). Reads the
 * runtime's state from stdin and does what the stage calls for. The stage comes from the argument
 * (prestart, createRuntime, poststop, ...) or, without one, from the state's status.
 */
public final class HookMain {
    private HookMain() {
    }

    /** The hook's own arguments, without help flags (those go to picocli for the full text). */
    public static boolean handles(String[] args) {
        return args.length >= 1 && args[0].equals("hook") && (args.length == 1 || (args.length == 2 && !args[1].startsWith("-")));
    }

    public static int run(String[] args, InputStream stdin, PrintStream out, PrintStream err) {
        return run(args, stdin, out, err, false);
    }

    /**
     * @param dryRun decide everything but mount nothing (the launcher's training walk, which
     *               records the classes a real hook loads)
     */
    public static int run(String[] args, InputStream stdin, PrintStream out, PrintStream err, boolean dryRun) {
        return run(args, stdin, out, err, dryRun, "self", null);
    }

    /**
     * The same work, for a caller that is not the process the runtime ran: the daemon's hook channel
     * runs it for a launcher. The runtime (and precreate's caller) are that process's parent.
     *
     * @param hookProcess the pid of the process the runtime ran as its hook ("self": this one)
     * @param afterAnswer receives the work the stage's answer does not depend on (the sweep of gone
     *                    containers' staging), for the caller to run once the runtime has its answer
     */
    public static int run(String[] args, InputStream stdin, PrintStream out, PrintStream err, String hookProcess,
                          List<Runnable> afterAnswer) {
        return run(args, stdin, out, err, false, hookProcess, afterAnswer);
    }

    /** @param afterAnswer where work the answer does not depend on goes; null: done here, before returning */
    private static int run(String[] args, InputStream stdin, PrintStream out, PrintStream err, boolean dryRun, String hookProcess,
                           List<Runnable> afterAnswer) {
        Syscalls.preload();
        String context = "hook";
        try {
            HookStage named = null;
            if (args.length == 2) {
                named = HookStage.fromName(args[1]);
                if (named == null) {
                    err.println("idshift: hook: unknown stage \"" + args[1] + "\"; expected precreate, prestart, createRuntime,"
                            + " poststart, poststop (or none: the input and the state's status decide)");
                    return ExitCode.USAGE;
                }
            }
            byte[] input = readAll(stdin);
            JsonObjectView document = JsonTree.parseObject(input, "state on stdin");
            if (OciReader.looksLikeConfig(document) || named == HookStage.PRECREATE) {
                context = "hook (precreate)";
                String staged = PrecreateStage.run(document, StagingStore.fromEnvironment(), out, ParentRuntime.parentPid(hookProcess));
                if (!dryRun) {
                    sweepGoneStaging(err, afterAnswer, staged);
                }
                return ExitCode.OK;
            }
            OciState state = OciReader.state(document);
            context = "hook: container " + state.id();
            HookStage stage = named != null ? named : HookStage.fromStatus(state.status());
            if (stage == HookStage.STARTED || stage == HookStage.TEARDOWN) {
                String key = stagingKey(state);
                StagingStore store = StagingStore.fromEnvironment();
                if (key == null && stage == HookStage.TEARDOWN) {
                    // Staging made at prestart (the FUSE backend) is found from the container id.
                    String ownKey = StagingStore.keyForContainer(state.id());
                    key = store.exists(ownKey) ? ownKey : null;
                }
                if (key != null) {
                    if (stage == HookStage.TEARDOWN) {
                        StagingTeardown.remove(store, FuseRegistry.fromEnvironment(), key);
                    } else {
                        store.recordContainer(key, state.id(), state.pid());
                    }
                }
                if (!dryRun) {
                    sweepGoneStaging(err, afterAnswer, null);
                }
                return ExitCode.OK;
            }
            if (stage != HookStage.SETUP) {
                return ExitCode.OK;
            }
            return setup(state, err, dryRun, hookProcess);
        } catch (RuntimeException | Error e) {
            return ErrorReporter.report(e, context, err);
        }
    }

    private static int setup(OciState state, PrintStream err, boolean dryRun, String hookProcess) {
        if (state.pid() <= 0) {
            throw new BadInputException("the state has no container pid: run idshift hook as a prestart or createRuntime hook");
        }
        Bundle bundle = Bundle.load(Path.of(state.bundle()));
        if (!dryRun && NestedShift.applies()) {
            debug(err, NestedShift.run(state.pid(), bundle, state.annotations(), ParentRuntime.ofParentOf(hookProcess).needsProtectedPathsReapplied()));
            return ExitCode.OK;
        }
        if (!dryRun && ShiftDecision.skipReason(bundle.config(), ShiftDecision.annotationsOf(bundle, state.annotations())) == null) {
            // Everything below reads the pid's maps and mounts into its namespaces: it must be a container's.
            StatePid.verify(state.pid());
        }
        ShiftDecision decision = ShiftDecision.decide(bundle, state.annotations(), state.pid());
        if (decision.plan().isEmpty()) {
            debug(err, decision.reason());
            return ExitCode.OK;
        }
        ParentRuntime runtime = ParentRuntime.ofParentOf(hookProcess);
        if (dryRun) {
            StatePid.refusal(state.pid());  // the training walk: load the check's classes (our own pid is refused)
            RootfsShift.walkWithoutMounting(state.pid());
            return ExitCode.OK;
        }
        String how = RootfsShift.inject(state.id(), state.pid(), bundle, decision.plan().get(), decision.annotations().backend(),
                runtime.needsProtectedPathsReapplied());
        debug(err, "shifted " + bundle.rootfs() + " for " + runtime + " (" + how + "; " + decision.reason() + ")");
        return ExitCode.OK;
    }

    /**
     * The key of the staging mounts the precreate stage made for this container, if any, derived from
     * the secret the annotation carries: an annotation naming a key (which mountinfo shows) or any
     * other value reaches no one's staging. (Mounts made at prestart live in the container's mount
     * namespace and die with it.)
     */
    private static String stagingKey(OciState state) {
        String secret = state.annotations().get(IdshiftAnnotations.STAGING);
        if (secret == null) {
            // podman's states carry its own copy of the annotations; the bundle has the config we returned.
            secret = stagingSecretOfBundle(Path.of(state.bundle()));
        }
        if (secret == null) {
            return null;
        }
        if (!IdshiftAnnotations.isStagingKey(secret)) {
            throw new BadInputException("$.annotations[\"" + IdshiftAnnotations.STAGING + "\"]: \"" + secret + "\" is not a staging secret");
        }
        return StagingStore.keyOf(secret);
    }

    private static String stagingSecretOfBundle(Path bundle) {
        byte[] json;
        try {
            json = java.nio.file.Files.readAllBytes(bundle.resolve("config.json"));
        } catch (IOException e) {
            return null;
        }
        return OciReader.readConfig(json, bundle.resolve("config.json").toString()).annotations().get(IdshiftAnnotations.STAGING);
    }

    /**
     * Staging of other containers that are gone for sure (a create that failed runs no poststop),
     * removed now rather than at the next gc. Never fails the stage: gc is still there. Nothing this
     * stage answers depends on it: a caller that can answer first ({@code afterAnswer}) runs it after.
     * {@code ownKey}, the staging this precreate just made, is not judged: its creator is our parent,
     * alive while we work, but after our answer a wrapper script that ran us may be gone before the
     * runtime has even started the container.
     */
    private static void sweepGoneStaging(final PrintStream err, List<Runnable> afterAnswer, final String ownKey) {
        if (afterAnswer == null) {
            sweepGoneStaging(err, ownKey);
            return;
        }
        // An anonymous class, not a lambda: as everywhere on the hook's path (see Syscalls.preload).
        afterAnswer.add(new Runnable() {
            @Override
            public void run() {
                sweepGoneStaging(err, ownKey);
            }
        });
    }

    private static void sweepGoneStaging(PrintStream err, String ownKey) {
        try {
            for (String key : GoneStaging.sweep(StagingStore.fromEnvironment(), ownKey)) {
                debug(err, "removed staging " + key + ": its container is gone");
            }
        } catch (RuntimeException e) {
            debug(err, "could not sweep staging of gone containers: " + e.getMessage());
        }
    }

    private static void debug(PrintStream err, String line) {
        if (ErrorReporter.debug()) {
            err.println("idshift: hook: " + line);
        }
    }

    private static byte[] readAll(InputStream stdin) {
        try {
            return stdin.readAllBytes();
        } catch (IOException e) {
            throw new BadInputException("cannot read the state from stdin: " + e.getMessage());
        }
    }
}
