package dev.idshift.hook;

import dev.idshift.cli.BadInputException;
import dev.idshift.cli.ErrorReporter;
import dev.idshift.cli.ExitCode;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.config.oci.OciReader;
import dev.idshift.config.oci.OciState;
import dev.idshift.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;

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
        Syscalls.preload();
        String context = "hook";
        try {
            HookStage named = null;
            if (args.length == 2) {
                named = HookStage.fromName(args[1]);
                if (named == null) {
                    err.println("idshift: hook: unknown stage \"" + args[1] + "\"; expected prestart, createRuntime,"
                            + " poststop (or none: the state's status decides)");
                    return ExitCode.USAGE;
                }
            }
            byte[] input = readAll(stdin);
            JsonObjectView document = JsonTree.parseObject(input, "state on stdin");
            if (OciReader.looksLikeConfig(document)) {
                throw new UnsupportedOperationException("stdin holds a config, as the precreate stage gives;"
                        + " the precreate stage is not supported yet: use prestart or createRuntime");
            }
            OciState state = OciReader.state(document);
            context = "hook: container " + state.id();
            HookStage stage = named != null ? named : HookStage.fromStatus(state.status());
            if (stage != HookStage.SETUP) {
                // Kernel idmapped mounts live in the container's mount namespace and die with it.
                return ExitCode.OK;
            }
            return setup(state, err, dryRun);
        } catch (RuntimeException | Error e) {
            return ErrorReporter.report(e, context, err);
        }
    }

    private static int setup(OciState state, PrintStream err, boolean dryRun) {
        if (state.pid() <= 0) {
            throw new BadInputException("the state has no container pid: run idshift hook as a prestart or createRuntime hook");
        }
        Bundle bundle = Bundle.load(Path.of(state.bundle()));
        ShiftDecision decision = ShiftDecision.decide(bundle, state.annotations(), state.pid());
        if (decision.plan().isEmpty()) {
            debug(err, decision.reason());
            return ExitCode.OK;
        }
        ParentRuntime runtime = ParentRuntime.detect();
        if (dryRun) {
            KernelShift.walkWithoutMounting(state.pid());
            return ExitCode.OK;
        }
        KernelShift.injectRootfs(state.pid(), bundle, decision.plan().get(), runtime.needsProtectedPathsReapplied());
        debug(err, "shifted " + bundle.rootfs() + " for " + runtime + " (" + decision.reason() + ")");
        return ExitCode.OK;
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
