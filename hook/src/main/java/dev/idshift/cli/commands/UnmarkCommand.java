package dev.idshift.cli.commands;

import dev.idshift.failure.BadInputException;
import dev.idshift.app.ExitCode;
import dev.idshift.marks.Mark;
import dev.idshift.marks.MarkStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "unmark", header = "Remove a mark.", mixinStandardHelpOptions = true,
        description = "Removes a mark. Mounts already handed out stay until their users unmount them.")
public final class UnmarkCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH")
    Path path;

    @Override
    public Integer call() {
        MarkCommand.requireRoot("unmark");
        String wanted = path.toAbsolutePath().normalize().toString();
        try {
            wanted = path.toRealPath().toString();
        } catch (java.io.IOException e) {
            // a mark of a directory that is gone can still be removed by its recorded path
        }
        MarkStore store = MarkStore.fromEnvironment();
        List<Mark> kept = new ArrayList<>();
        for (Mark mark : store.load()) {
            if (!mark.path().equals(wanted)) {
                kept.add(mark);
            }
        }
        if (kept.size() == store.load().size()) {
            throw new BadInputException(wanted + " is not marked");
        }
        store.save(kept);
        System.out.println("unmarked " + wanted);
        return ExitCode.OK;
    }
}
