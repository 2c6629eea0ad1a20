package dev.idshift.cli;

import dev.idshift.cli.commands.DaemonCommand;
import dev.idshift.cli.commands.DoctorCommand;
import dev.idshift.cli.commands.MarkCommand;
import dev.idshift.cli.commands.MarksCommand;
import dev.idshift.cli.commands.UnmarkCommand;
import dev.idshift.cli.commands.GcCommand;
import dev.idshift.cli.commands.InstallCommand;
import dev.idshift.cli.commands.HookHelpCommand;
import dev.idshift.cli.commands.MapsCommand;
import dev.idshift.cli.commands.MountCommand;
import dev.idshift.cli.commands.UmountCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The picocli command tree for everything but the hook's fast path. */
@Command(name = "idshift",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "Gives a user-namespaced container a uid/gid-shifted view of a root filesystem: an image owned by",
            "host root appears owned by the container's root, without chown and without copying.",
            "",
            "As an OCI hook:  `idshift install runc --bundle DIR` (runc, crun) or `idshift install podman`.",
            "By hand:         idshift mount --uidmap 0:100000:65536 SRC DST; idshift umount DST.",
        },
        subcommands = {HookHelpCommand.class, MountCommand.class, UmountCommand.class, MapsCommand.class,
                DoctorCommand.class, InstallCommand.class, GcCommand.class, MarkCommand.class, UnmarkCommand.class,
                MarksCommand.class, DaemonCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 the kernel refused, 5 unsupported here.",
                "IDSHIFT_DEBUG=1 prints what happens and stack traces."})
public final class Commands implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    public static int run(String[] args) {
        CommandLine commandLine = new CommandLine(new Commands());
        commandLine.setExecutionExceptionHandler((failure, line, parsed) ->
                ErrorReporter.report(failure, line.getCommandName().equals("idshift") ? "" : line.getCommandName(), System.err));
        commandLine.setParameterExceptionHandler((failure, parsed) -> {
            CommandLine line = failure.getCommandLine();
            line.getErr().println("idshift: " + failure.getMessage());
            line.getErr().println("Try 'idshift " + (line.getCommandName().equals("idshift") ? "" : line.getCommandName() + " ") + "--help'.");
            return ExitCode.USAGE;
        });
        return commandLine.execute(args);
    }
}
