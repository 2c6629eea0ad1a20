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
        } else if (args.length == 1 && args[0].equals(Training.COMMAND)) {
            code = Training.run();
        } else {
            code = Commands.run(args);
        }
        System.out.flush();
        System.exit(code);
    }
}
