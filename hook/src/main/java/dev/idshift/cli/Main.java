package dev.idshift.cli;

import dev.idshift.app.ErrorReporter;
import dev.idshift.app.HookServing;
import dev.idshift.hook.HookMain;

/**
 * Entry point. {@code idshift hook} takes a fast path without picocli (which alone costs ~45 ms of
 * start-up): runtimes run it on every container start. So do the internal commands the launcher and
 * the engine start (the FUSE server, the class-data trainings). Everything else goes through picocli.
 */
public final class Main {
    private Main() {
    }

    private static int dispatch(String[] args) {
        if (HookMain.handles(args)) {
            return HookServing.finish(HookMain.run(args, System.in, System.out, System.err));
        } else if (args.length >= 1 && args[0].equals(FuseServe.COMMAND)) {
            return FuseServe.run(args);
        } else if (args.length == 1 && args[0].equals(FuseTraining.COMMAND)) {
            return FuseTraining.run();
        } else if (args.length == 1 && args[0].equals(Training.COMMAND)) {
            return Training.run();
        } else if (args.length == 1 && args[0].equals(Training.SERVING_COMMAND)) {
            return Training.runServing();
        }
        return Commands.run(args);
    }

    public static void main(String[] args) {
        int code;
        try {
            code = dispatch(args);
        } catch (RuntimeException | Error e) {
            // What picocli does not hand to its handler (an Error: a thread the JVM could not start,
            // ProcessBuilder's reaper among them) still ends as one line and an exit code.
            code = ErrorReporter.report(e, args.length == 0 || args[0].startsWith("-") ? "" : args[0], System.err);
        }
        System.out.flush();
        System.err.flush();
        // halt, not exit: since JDK 21 System.exit logs through System.Logger, which sets up the
        // logging backend (a ServiceLoader scan of every jar) on each call, ~10 ms per hook. Our
        // output is flushed, and the two shutdown hooks there are (the daemon's and the FUSE server's,
        // for SIGTERM) have done their work by the time their command returns here: the daemon's
        // serve() returns once it is stopped, the FUSE server's loop once its mount is gone. So halt
        // skips nothing of ours.
        Runtime.getRuntime().halt(code);
    }
}
