package dev.idshift.hook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the hook decides for a bundle, without a process (pid 0: config.json's maps): skip and why,
 * or which plan. The rootfs is owned by whoever runs the test; the maps are chosen around that owner.
 */
class ShiftDecisionTest {
    @TempDir
    Path directory;

    private long owner() throws Exception {
        Files.createDirectories(directory.resolve("rootfs"));
        return (Integer) Files.getAttribute(directory.resolve("rootfs"), "unix:uid");
    }

    private Bundle bundle(String linux, String annotations) throws Exception {
        Files.createDirectories(directory.resolve("rootfs"));
        Files.writeString(directory.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"linux\":"
                + linux + ",\"annotations\":" + annotations + "}");
        return Bundle.load(directory);
    }

    private static String userns(long hostId) {
        String map = "[{\"containerID\":0,\"hostID\":" + hostId + ",\"size\":65536}]";
        return "{\"namespaces\":[{\"type\":\"user\"},{\"type\":\"mount\"}],\"uidMappings\":" + map + ",\"gidMappings\":" + map + "}";
    }

    @Test
    void aDisabledContainerIsSkippedAndSaysWhy() throws Exception {
        ShiftDecision decision = ShiftDecision.decide(bundle(userns(500000), "{\"dev.idshift.disable\":\"true\"}"), Map.of(), 0);
        assertTrue(decision.plan().isEmpty());
        assertTrue(decision.reason().contains("dev.idshift.disable=true"), decision.reason());
    }

    @Test
    void theRuntimesStateAnnotationsWinOverConfigJsons() throws Exception {
        ShiftDecision decision = ShiftDecision.decide(bundle(userns(500000), "{\"dev.idshift.disable\":\"false\"}"),
                Map.of("dev.idshift.disable", "true"), 0);
        assertTrue(decision.plan().isEmpty());
        assertTrue(decision.reason().contains("dev.idshift.disable=true"), decision.reason());
    }

    @Test
    void aContainerWithoutAUserNamespaceIsSkipped() throws Exception {
        ShiftDecision decision = ShiftDecision.decide(bundle("{\"namespaces\":[{\"type\":\"mount\"}]}", "{}"), Map.of(), 0);
        assertTrue(decision.plan().isEmpty());
        assertTrue(decision.reason().contains("no user namespace"), decision.reason());
    }

    @Test
    void aJoinedUserNamespaceWithoutAProcessHasNoMapsToPlanWith() throws Exception {
        ShiftDecision decision = ShiftDecision.decide(bundle("{\"namespaces\":[{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}]}", "{}"),
                Map.of(), 0);
        assertTrue(decision.plan().isEmpty());
        assertTrue(decision.reason().contains("maps unknown"), decision.reason());
    }

    @Test
    void aRootfsOwnedByAnotherHostIdIsShiftedOntoTheContainersRoot() throws Exception {
        long hostRoot = owner() + 500000;
        ShiftDecision decision = ShiftDecision.decide(bundle(userns(hostRoot), "{}"), Map.of(), 0);
        assertTrue(decision.plan().isPresent(), decision.reason());
        assertFalse(decision.plan().get().isNoop());
        assertTrue(decision.reason().startsWith("uid: "), decision.reason());
        assertEquals(hostRoot, decision.ids().uids().toOutside(0));
    }

    @Test
    void aRootfsAlreadyOwnedByTheContainersRootIsLeftAsItIs() throws Exception {
        ShiftDecision decision = ShiftDecision.decide(bundle(userns(owner()), "{}"), Map.of(), 0);
        assertTrue(decision.plan().isEmpty());
        assertTrue(decision.reason().contains("nothing to shift"), decision.reason());
    }
}
