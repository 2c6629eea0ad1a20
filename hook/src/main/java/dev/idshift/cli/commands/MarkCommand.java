package dev.idshift.cli.commands;

import dev.idshift.failure.BadInputException;
import dev.idshift.app.ExitCode;
import dev.idshift.marks.Mark;
import dev.idshift.marks.MarkSafety;
import dev.idshift.marks.MarkStore;
import dev.idshift.sys.credentials.Credentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mark", header = "Let the daemon hand out shifted mounts of PATH (root only).", mixinStandardHelpOptions = true,
        description = {"Root blesses PATH as shiftable: the idshift daemon will hand shifted mounts of it (and of directories",
            "beneath it) to callers that may not make them themselves - nested containers and unprivileged users -,",
            "always limited to host ids the caller already owns.",
            "Refuses a PATH that unprivileged users could reach (a container's root writes host-root-owned, possibly",
            "setuid, files there; ACLs count) unless --force. The daemon checks again on every request and refuses a mark",
            "that is no longer safe, except one that needed --force. Marks persist in /var/lib/idshift/marks.json (IDSHIFT_STATE_DIR)."})
public final class MarkCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH", description = "An existing directory.")
    Path path;

    @Option(names = "--owner", paramLabel = "UID", defaultValue = "-1",
            description = "Host user UID may use it too (with its uid and /etc/subuid ranges).")
    long owner;

    @Option(names = "--allow-subids", description = "Every host user may use it, with its /etc/subuid and /etc/subgid ranges.")
    boolean allowSubids;

    @Option(names = "--force", description = "Mark even though unprivileged users could reach PATH.")
    boolean force;

    @Override
    public Integer call() throws IOException {
        requireRoot("mark");
        if (owner >= 0 && allowSubids) {
            throw new BadInputException("--owner and --allow-subids exclude each other");
        }
        if (!Files.isDirectory(path)) {
            throw new BadInputException(path + " is not an existing directory");
        }
        Path real = path.toRealPath();
        List<String> problems = MarkSafety.problems(real, Path.of("/etc"));
        if (!problems.isEmpty() && !force) {
            System.err.println("idshift: mark: refusing " + real + ":");
            for (String problem : problems) {
                System.err.println("  - " + problem);
            }
            System.err.println("  (--force marks it anyway)");
            return ExitCode.BAD_INPUT;
        }
        MarkStore store = MarkStore.fromEnvironment();
        List<Mark> marks = new ArrayList<>();
        for (Mark mark : store.load()) {
            if (!mark.path().equals(real.toString())) {
                marks.add(mark);
            }
        }
        // Only a mark that needed --force skips the daemon's re-check at use; a safe one is held to it.
        marks.add(new Mark(real.toString(), owner, allowSubids, !problems.isEmpty()));
        store.save(marks);
        System.out.println("marked " + real + (owner >= 0 ? " for uid " + owner : allowSubids ? " for every user's subordinate ids" : "")
                + (problems.isEmpty() ? "" : " (forced past " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + "; the daemon will not re-check it)"));
        return ExitCode.OK;
    }

    static void requireRoot(String command) {
        if (Credentials.get().geteuid() != 0) {
            throw new BadInputException(command + ": only root may change marks");
        }
    }
}
