package dev.idshift.cli;

import dev.idshift.config.annotations.IdshiftAnnotations;
import dev.idshift.config.json.JsonInputException;
import dev.idshift.config.oci.OciConfig;
import dev.idshift.config.oci.OciReader;
import dev.idshift.config.oci.OciState;
import dev.idshift.hook.HookStage;
import dev.idshift.hook.ParentRuntime;
import dev.idshift.idmap.IdMap;
import dev.idshift.idmap.IdMapParser;
import dev.idshift.layout.ShiftPlan;
import dev.idshift.layout.ShiftPlanner;
import dev.idshift.mount.kernel.Fd;
import dev.idshift.mount.kernel.MountNamespaceRunner;
import dev.idshift.mount.kernel.UserNamespaces;
import dev.idshift.sys.Syscalls;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code idshift __train}: walks the hook's code path without mounting anything, so the launcher can
 * record a class-data-sharing archive (JDK 17) or AOT cache (JDK 24+) of exactly the classes a hook
 * loads. Not for people; the launcher runs it once per JDK.
 */
final class Training {
    static final String COMMAND = "__train";

    private Training() {
    }

    static int run() {
        Syscalls.preload();
        byte[] state = ("{\"ociVersion\":\"1.0.2\",\"id\":\"train\",\"status\":\"creating\",\"pid\":" + ProcessHandle.current().pid()
                + ",\"bundle\":\"/nonexistent\",\"annotations\":{\"dev.idshift.fsidmap\":\"0:0:65536\"}}").getBytes(StandardCharsets.UTF_8);
        byte[] config = ("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":false},\"mounts\":[{\"destination\":\"/proc\","
                + "\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\"]}],\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                + "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                + "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]},\"annotations\":{}}").getBytes(StandardCharsets.UTF_8);
        OciState parsedState = OciReader.readState(state, "training state");
        OciConfig parsedConfig = OciReader.readConfig(config, "training config");
        IdshiftAnnotations.from(parsedState.annotations(), "training");
        HookStage.fromStatus(parsedState.status());
        IdMap uids = IdMapParser.parseProcMap("0 100000 65536\n");
        ShiftPlan plan = ShiftPlanner.plan(uids, IdMap.fromOci(parsedConfig.linux().gidMappings()), 0, 300000,
                Optional.of(IdMapParser.parseColonList(parsedState.annotations().get("dev.idshift.fsidmap"))), Optional.empty(), "training");
        plan.reusesContainerUserns();
        ParentRuntime.detect();
        try {
            Files.readAttributes(Path.of("/"), "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
            OciReader.readState("{\"bundle\": 3}".getBytes(StandardCharsets.UTF_8), "training");
        } catch (JsonInputException expected) {
            ErrorReporter.report(expected, "training", new PrintStream(new ByteArrayOutputStream()));
        } catch (java.io.IOException ignored) {
            // only the classes matter
        }
        try (Fd ownUserns = UserNamespaces.openOf(ProcessHandle.current().pid())) {
            MountNamespaceRunner.runIn(ProcessHandle.current().pid(), () -> Syscalls.get().gettid());
        } catch (RuntimeException notRoot) {
            // setns needs CAP_SYS_ADMIN; the classes are loaded either way
        }
        return ExitCode.OK;
    }
}
