package dev.idshift.cli;

import dev.idshift.hook.HookMain;

/**
 * Entry point. {@code idshift hook} takes a fast path without picocli (which alone costs ~45 ms of
 * start-up): runtimes run it on every container start. Everything else goes through picocli.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int code;
        if (HookMain.handles(args)) {
            code = HookMain.run(args, System.in, System.out, System.err);
        } else if (args.length >= 1 && args[0].equals(FuseServe.COMMAND)) {
            code = FuseServe.run(args);
        } else if (args.length == 1 && args[0].equals(FuseTraining.COMMAND)) {
            code = FuseTraining.run();
        } else if (args.length == 1 && args[0].equals(Training.COMMAND)) {
            code = Training.run();
        } else {
            code = Commands.run(args);
        }
        System.out.flush();
        System.err.flush();
        // halt, not exit: since JDK 21 System.exit logs through System.Logger, which sets up the
        // logging backend (a ServiceLoader scan of every jar) on each call, ~10 ms per hook. We
        // register no shutdown hooks and have flushed our output, so there is nothing to skip.
        Runtime.getRuntime().halt(code);
    }
}
