package dev.idshift.hook;

import dev.idshift.shift.Shifter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real hook in dry-run mode on a throwaway bundle: decides everything (state, config, maps,
 * layout, the pid check on our own pid, entering our own mount namespace), mounts nothing. Run once
 * by {@code idshift __train}, to record the classes a hook loads; run a few hundred times by the
 * daemon when it starts, so that its first hooks run compiled code (interpreted, a createRuntime
 * took ~10 ms in the daemon instead of ~1.5 ms).
 */
public final class HookTraining {
    private HookTraining() {
    }

    /** @return the dry run's exit code (of the last walk) */
    public static int walk(int times) throws IOException {
        Path bundle = Files.createTempDirectory("idshift-train-");
        try {
            Files.createDirectory(bundle.resolve("rootfs"));
            // The annotation makes the plan non-trivial even though our own uid_map is the identity.
            String config = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\",\"readonly\":false},"
                    + "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\"]}],"
                    + "\"linux\":{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],"
                    + "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                    + "\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
                    + "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]},"
                    + "\"annotations\":{\"dev.idshift.fsidmap\":\"0:300000:65536\"}}";
            Files.writeString(bundle.resolve("config.json"), config);
            byte[] state = ("{\"ociVersion\":\"1.0.2\",\"id\":\"training\",\"status\":\"creating\",\"pid\":"
                    + ProcessHandle.current().pid() + ",\"bundle\":\"" + bundle + "\"}").getBytes(StandardCharsets.UTF_8);
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
            int code = 0;
            for (int i = 0; i < times; i++) {
                code = HookMain.run(new String[] {"hook", "createRuntime"}, new ByteArrayInputStream(state), quiet, quiet, true);
                Shifter.shapeOf(bundle.resolve("rootfs").toString());  // the mount table's parser (not an overlay)
            }
            return code;
        } finally {
            Files.deleteIfExists(bundle.resolve("config.json"));
            Files.deleteIfExists(bundle.resolve("rootfs"));
            Files.deleteIfExists(bundle);
        }
    }
}
