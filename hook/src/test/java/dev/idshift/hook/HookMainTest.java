package dev.idshift.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.app.ExitCode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hook's decisions and errors, in-process; nothing here mounts (see integration-tests for that). */
class HookMainTest {
    @TempDir
    Path bundle;

    private record Outcome(int code, String err) {
    }

    private static Outcome hook(String state, String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] argv = new String[args.length + 1];
        argv[0] = "hook";
        System.arraycopy(args, 0, argv, 1, args.length);
        int code = HookMain.run(argv, new ByteArrayInputStream(state.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out), new PrintStream(err), false);
        return new Outcome(code, err.toString(StandardCharsets.UTF_8));
    }

    private String state(String status) {
        return "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"" + status + "\",\"pid\":" + ProcessHandle.current().pid()
                + ",\"bundle\":\"" + bundle + "\"}";
    }

    private void config(String linux, String annotations) throws Exception {
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"linux\":"
                + linux + ",\"annotations\":" + annotations + "}");
    }

    @Test
    void containerWithoutUserNamespaceIsLeftAlone() throws Exception {
        config("{\"namespaces\":[{\"type\":\"mount\"}]}", "{}");
        assertEquals(new Outcome(ExitCode.OK, ""), hook(state("creating")));
    }

    @Test
    void disabledContainerIsLeftAlone() throws Exception {
        config("{\"namespaces\":[{\"type\":\"user\"}]}", "{\"dev.idshift.disable\":\"true\"}");
        assertEquals(new Outcome(ExitCode.OK, ""), hook(state("created")));
    }

    @Test
    void poststopAndPoststartDoNothingForKernelMounts() throws Exception {
        config("{\"namespaces\":[{\"type\":\"user\"}]}", "{}");
        assertEquals(ExitCode.OK, hook(state("stopped")).code());
        assertEquals(ExitCode.OK, hook(state("running"), "poststart").code());
    }

    @Test
    void badAnnotationIsOneLineNamingIt() throws Exception {
        config("{\"namespaces\":[{\"type\":\"user\"}]}", "{\"dev.idshift.fsidmap\":\"0:1\"}");
        Outcome outcome = hook(state("creating"));
        assertEquals(ExitCode.BAD_INPUT, outcome.code());
        assertTrue(outcome.err().startsWith("idshift: hook: container c1: "), outcome.err());
        assertTrue(outcome.err().contains("$.annotations[\"dev.idshift.fsidmap\"]: \"0:1\" is not an id map"), outcome.err());
        assertEquals(1, outcome.err().lines().count());
    }

    @Test
    void unknownStageIsAUsageError() {
        Outcome outcome = hook("{}", "prestrat");
        assertEquals(ExitCode.USAGE, outcome.code());
        assertTrue(outcome.err().contains("unknown stage \"prestrat\""), outcome.err());
    }

    @Test
    void precreateWithoutUserNamespacePassesTheConfigThrough() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String config = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/x\"},\"process\":{\"args\":[\"sh\"]},\"extra\":[1,2.5,null]}";
        int code = HookMain.run(new String[] {"hook", "precreate"}, new ByteArrayInputStream(config.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out), new PrintStream(new ByteArrayOutputStream()), false);
        assertEquals(ExitCode.OK, code);
        assertEquals(config, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void precreateRefusesARelativeRootfsAndAStagingAnnotation() {
        Outcome relative = hook("{\"root\":{\"path\":\"rootfs\"},\"linux\":{\"namespaces\":[{\"type\":\"user\"}],"
                + "\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]}}");
        assertEquals(ExitCode.BAD_INPUT, relative.code());
        assertTrue(relative.err().contains("$.root.path: \"rootfs\" is relative"), relative.err());
        Outcome forged = hook("{\"root\":{\"path\":\"/x\"},\"annotations\":{\"dev.idshift.staging\":\"0123456789abcdef0123456789abcdef\"}}");
        assertEquals(ExitCode.BAD_INPUT, forged.code());
        assertTrue(forged.err().contains("only idshift's precreate stage sets it"), forged.err());
    }

    @Test
    void missingBundleIsNamed() {
        Outcome outcome = hook("{\"id\":\"c9\",\"status\":\"creating\",\"pid\":1,\"bundle\":\"/nonexistent/b\"}");
        assertEquals(ExitCode.BAD_INPUT, outcome.code());
        assertEquals("idshift: hook: container c9: bundle /nonexistent/b has no config.json\n", outcome.err());
    }

    @Test
    void stagesAndStatuses() {
        assertEquals(HookStage.SETUP, HookStage.fromName("prestart"));
        assertEquals(HookStage.SETUP, HookStage.fromName("createRuntime"));
        assertEquals(HookStage.TEARDOWN, HookStage.fromName("poststop"));
        assertEquals(HookStage.STARTED, HookStage.fromName("poststart"));
        assertEquals(HookStage.PRECREATE, HookStage.fromName("precreate"));
        assertEquals(HookStage.SETUP, HookStage.fromStatus("creating"));
        assertEquals(HookStage.SETUP, HookStage.fromStatus("created"));
        assertEquals(HookStage.STARTED, HookStage.fromStatus("running"));
        assertEquals(HookStage.NONE, HookStage.fromStatus("paused"));
        assertEquals(ParentRuntime.CRUN, ParentRuntime.fromName("crun"));
        assertTrue(ParentRuntime.UNKNOWN.needsProtectedPathsReapplied());
        assertTrue(!ParentRuntime.RUNC.needsProtectedPathsReapplied());
    }
}
