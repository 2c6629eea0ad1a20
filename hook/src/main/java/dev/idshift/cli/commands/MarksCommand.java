package dev.idshift.cli.commands;

import dev.idshift.app.ExitCode;
import dev.idshift.marks.Mark;
import dev.idshift.marks.MarkStore;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "marks", header = "List the marks and who may use each.", mixinStandardHelpOptions = true, description = "Lists the marks and who may use each (users count with the namespaces they create).")
public final class MarksCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        MarkStore store = MarkStore.fromEnvironment();
        if (store.load().isEmpty()) {
            System.out.println("no marks (" + store.file() + ")");
        }
        for (Mark mark : store.load()) {
            System.out.println(mark.path() + "\t" + (mark.ownerUid() >= 0 ? "root, root-run containers, uid " + mark.ownerUid()
                    : mark.allowSubids() ? "root, root-run containers, every user (own subordinate ids)" : "root, root-run containers")
                    + (mark.forced() ? "\t(forced: not re-checked)" : ""));
        }
        return ExitCode.OK;
    }
}
