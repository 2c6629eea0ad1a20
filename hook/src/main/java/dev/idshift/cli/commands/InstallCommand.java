package dev.idshift.cli.commands;

import dev.idshift.failure.InternalException;
import dev.idshift.failure.BadInputException;
import dev.idshift.app.ExitCode;
import dev.idshift.config.json.JsonObjectView;
import dev.idshift.config.json.JsonTree;
import dev.idshift.hookchannel.HookChannel;
import dev.idshift.staging.StagingStore;
import dev.idshift.sys.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "install", header = "Wire idshift into podman/CRI-O (hooks.d) or a runc bundle.", mixinStandardHelpOptions = true,
        description = {"Wires idshift into a runtime.",
            "  idshift install podman [--hooks-dir DIR] [--env K=V]...",
            "                                             hooks.d files: precreate shifts containers annotated",
            "                                             dev.idshift.enable=true; poststart/poststop clean up",
            "  idshift install runc --bundle DIR [--env K=V]...   adds `idshift hook` to the bundle's config.json",
            "                                             (createRuntime, and poststop; also for crun)"})
public final class InstallCommand implements Callable<Integer> {
    static final List<String> PODMAN_STAGES = List.of("precreate", "poststart", "poststop");

    @Parameters(index = "0", paramLabel = "RUNTIME", description = "podman (also CRI-O) or runc (also crun)")
    String runtime;

    @Option(names = "--hooks-dir", paramLabel = "DIR", defaultValue = "/etc/containers/oci/hooks.d",
            description = "podman: where to write the hooks (default ${DEFAULT-VALUE}; pass it to podman --hooks-dir if elsewhere)")
    Path hooksDir;

    @Option(names = "--bundle", paramLabel = "DIR", description = "runc: the bundle whose config.json gets the hook")
    Path bundle;

    @Option(names = "--stage", paramLabel = "STAGE", defaultValue = "createRuntime",
            description = "runc: prestart or createRuntime (default ${DEFAULT-VALUE})")
    String stage;

    @Option(names = "--env", paramLabel = "K=V",
            description = "an environment variable for the hooks (repeatable), e.g. IDSHIFT_RUN_DIR=/run/idshift-test"
                    + " or IDSHIFT_JAVA=...; runtimes give hooks no other environment")
    List<String> env = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        String launcher = launcher();
        switch (runtime) {
            case "podman":
            case "crio":
                installHooksDir(launcher);
                return ExitCode.OK;
            case "runc":
            case "crun":
                installIntoBundle(launcher);
                return ExitCode.OK;
            default:
                throw new BadInputException("unknown runtime \"" + runtime + "\"; expected podman or runc");
        }
    }

    private void checkEnv() {
        for (String each : env) {
            int equals = each.indexOf('=');
            if (equals <= 0 || each.substring(0, equals).indexOf(' ') >= 0) {
                throw new BadInputException("--env: \"" + each + "\" is not K=V");
            }
        }
    }

    private void installHooksDir(String launcher) throws IOException {
        checkEnv();
        Files.createDirectories(hooksDir);
        for (String hookStage : PODMAN_STAGES) {
            Map<String, Object> hook = new LinkedHashMap<>();
            hook.put("path", launcher);
            hook.put("args", List.of("idshift", "hook", hookStage));
            if (!env.isEmpty()) {
                hook.put("env", new ArrayList<Object>(env));
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("version", "1.0.0");
            json.put("hook", hook);
            json.put("when", Map.of("annotations", Map.of("^dev\\.idshift\\.enable$", "^true$")));
            json.put("stages", List.of(hookStage));
            Path file = hooksDir.resolve("idshift-" + hookStage + ".json");
            AtomicFiles.write(file, JsonTree.write(json));
            System.out.println("wrote " + file);
        }
        describePath();
    }

    /**
     * Which path the installed hooks' stages with work take. Runtimes give hooks only the hook's own
     * env, so their run directory is IDSHIFT_RUN_DIR from --env, else the default, whatever ours is.
     */
    private void describePath() {
        Path run = StagingStore.DEFAULT_ROOT;
        for (String each : env) {
            if (each.startsWith("IDSHIFT_RUN_DIR=") && each.length() > "IDSHIFT_RUN_DIR=".length()) {
                run = Path.of(each.substring("IDSHIFT_RUN_DIR=".length()));
            }
        }
        System.out.println("stages with work will run through " + HookChannel.describe(run));
        if (!run.equals(StagingStore.fromEnvironment().root())) {
            System.out.println("note: the hooks use " + run + ", not this shell's IDSHIFT_RUN_DIR " + StagingStore.fromEnvironment().root()
                    + " (give --env IDSHIFT_RUN_DIR=... for another)");
        }
    }

    @SuppressWarnings("unchecked")
    private void installIntoBundle(String launcher) throws IOException {
        checkEnv();
        if (bundle == null) {
            throw new BadInputException("install runc needs --bundle DIR");
        }
        if (!stage.equals("prestart") && !stage.equals("createRuntime")) {
            throw new BadInputException("--stage: \"" + stage + "\"; expected prestart or createRuntime");
        }
        Path configFile = bundle.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new BadInputException("bundle " + bundle + " has no config.json");
        }
        JsonObjectView config = JsonTree.parseObject(Files.readAllBytes(configFile), configFile.toString());
        Map<String, Object> hooks = config.optObject("hooks").map(JsonObjectView::members).orElse(null);
        if (hooks == null) {
            hooks = new LinkedHashMap<>();
            config.members().put("hooks", hooks);
        }
        // poststop too: with the FUSE backend it waits for the container's FUSE server and removes its staging.
        boolean changed = false;
        for (String each : List.of(stage, "poststop")) {
            if (addHook(hooks, each, launcher, env)) {
                System.out.println("added idshift hook (" + each + ") to " + configFile);
                changed = true;
            } else {
                System.out.println(configFile + " already runs idshift at " + each);
            }
        }
        if (changed) {
            AtomicFiles.write(configFile, JsonTree.write(config.members()));
        }
        describePath();
    }

    /** Adds `idshift hook STAGE` (with ENV, if any) to the hooks object unless the launcher already runs there. */
    @SuppressWarnings("unchecked")
    private static boolean addHook(Map<String, Object> hooks, String stage, String launcher, List<String> env) {
        List<Object> entries = hooks.get(stage) instanceof List ? (List<Object>) hooks.get(stage) : new ArrayList<>();
        for (Object entry : entries) {
            if (entry instanceof Map && launcher.equals(((Map<String, Object>) entry).get("path"))) {
                return false;
            }
        }
        Map<String, Object> hook = new LinkedHashMap<>();
        hook.put("path", launcher);
        hook.put("args", List.of("idshift", "hook", stage));
        if (!env.isEmpty()) {
            hook.put("env", new ArrayList<Object>(env));
        }
        entries.add(hook);
        hooks.put(stage, entries);
        return true;
    }

    /** bin/idshift of this installation, as an absolute path hooks can run. */
    private static String launcher() {
        String configured = System.getenv("IDSHIFT_LAUNCHER");
        if (configured != null && !configured.isEmpty()) {
            return configured;
        }
        try {
            Path jar = Path.of(InstallCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent().getParent().getParent().resolve("bin/idshift").toString();
        } catch (java.net.URISyntaxException e) {
            throw new InternalException("cannot locate bin/idshift: " + e.getMessage(), e);
        }
    }
}
