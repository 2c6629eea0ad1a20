package dev.idshift.cli;

import dev.idshift.app.ErrorReporter;
import dev.idshift.app.ExitCode;
import dev.idshift.app.Version;
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
            "Use it:",
            "  as an OCI hook: idshift install runc --bundle DIR, or idshift install podman",
            "  by hand:        idshift mount --uidmap 0:100000:65536 SRC DST; idshift umount DST",
        },
        subcommands = {HookHelpCommand.class, MountCommand.class, UmountCommand.class, MapsCommand.class,
                DoctorCommand.class, InstallCommand.class, GcCommand.class, MarkCommand.class, UnmarkCommand.class,
                MarksCommand.class, DaemonCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 the kernel refused, 5 unsupported here, 6 refused by the idshift daemon.",
                "IDSHIFT_DEBUG=1 prints what happens and stack traces."})
public final class Commands implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /**
     * Descriptions are written as source lines of ~100 characters; picocli would keep each one as a line
     * and wrap it again, breaking sentences at odd places. Lines of one paragraph are joined here, so
     * that picocli wraps them where the terminal does. A line stays on its own when it is blank,
     * indented (examples, tables) or follows a line ending in ':'.
     */
    private static void reflow(CommandLine line) {
        CommandLine.Model.UsageMessageSpec usage = line.getCommandSpec().usageMessage();
        java.util.List<String> paragraphs = new java.util.ArrayList<>();
        for (String text : usage.description()) {
            int last = paragraphs.size() - 1;
            boolean continues = last >= 0 && !text.isBlank() && !Character.isWhitespace(text.charAt(0))
                    && !paragraphs.get(last).isBlank() && !paragraphs.get(last).endsWith(":");
            if (continues) {
                paragraphs.set(last, paragraphs.get(last) + " " + text);
            } else {
                paragraphs.add(text);
            }
        }
        usage.description(paragraphs.toArray(new String[0]));
        for (CommandLine sub : line.getSubcommands().values()) {
            reflow(sub);
        }
    }

    public static int run(String[] args) {
        CommandLine commandLine = new CommandLine(new Commands());
        // Wrap where the terminal does (COLUMNS, else tput), not at picocli's default 80 columns.
        commandLine.setUsageHelpAutoWidth(true);
        reflow(commandLine);
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
