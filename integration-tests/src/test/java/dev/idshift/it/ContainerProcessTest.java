package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Scratch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Red team of issue 10, item 2: "a container of a root-run runtime may use any mark with the ids its
 * namespace maps" was granted to every process in such a namespace. A non-root process there (uid
 * 1000 of a container whose socket is bind-mounted in, as for nested runtimes; the socket is 0666)
 * was served a root-only mark with on-disk 0 mapped to its own host uid (it could rewrite root's
 * files there) or to the container root's host uid. It cannot become those ids itself: it is a user
 * of its own uid. The namespace here is made by root as a runtime makes one (rootns.py), with host
 * ids 6700000-6765535 (clear of HookChannelTest's users, from 6000000).
 */
class ContainerProcessTest {
    private static final long BASE = 6_700_000;

    private static Path resource(Scratch scratch, String name) throws IOException {
        Path script = scratch.path().resolve(name);
        try (InputStream in = ContainerProcessTest.class.getResourceAsStream(name)) {
            Files.write(script, in.readAllBytes());
        }
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /**
     * Each request on one connection from a process of uid INSIDE in a root-made namespace (NESTED: from
     * a namespace that process creates below it); one reply line each.
     */
    private static List<String> askAs(long inside, Scratch scratch, Daemon daemon, boolean nested, String... requests)
            throws IOException {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", resource(scratch, "rootns.py").toString(),
                String.valueOf(BASE), String.valueOf(inside)));
        if (nested) {
            command.addAll(List.of("unshare", "--user", "--map-root-user"));
        }
        command.addAll(List.of("/usr/bin/python3", resource(scratch, "peer.py").toString(), "ask", daemon.socket().toString()));
        command.addAll(List.of(requests));
        Exec.Result result = Exec.run(command, null, Map.of(), 60);
        assertEquals(0, result.exit(), result.describe());
        return result.stdout().lines().toList();
    }

    private static String mount(Path source, String uidMap) {
        return "{\"version\":1,\"op\":\"mount\",\"source\":\"" + source + "\",\"uidmap\":\"" + uidMap + "\"}";
    }

    @Test
    void aNonRootProcessOfARootRunContainerIsNotTheContainer() throws Exception {
        try (Scratch scratch = new Scratch()) {
            Path closed = scratch.dir("closed");
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
            Path rootOnly = Files.createDirectories(closed.resolve("root-only"));
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", rootOnly.toString()).exit());
                String refused = "\"error\":\"" + rootOnly + " is not a directory inside a mark you may use\"";

                List<String> asUser = askAs(1000, scratch, daemon, false, "{\"version\":1,\"op\":\"marks\"}",
                        mount(rootOnly, "0:" + (BASE + 1000) + ":1"), mount(rootOnly, "0:" + BASE + ":1"));
                assertEquals("{\"version\":1,\"ok\":true,\"marks\":[]}", asUser.get(0), asUser.toString());
                assertTrue(asUser.get(1).contains(refused), "own id: " + asUser);
                assertTrue(asUser.get(2).contains(refused), "the container root's id: " + asUser);

                // Nor is root of a namespace that uid 1000 nests below the container's (`unshare -Ur` inside).
                List<String> nested = askAs(1000, scratch, daemon, true, mount(rootOnly, "0:" + (BASE + 1000) + ":1"));
                assertTrue(nested.get(0).contains(refused), "nested namespace: " + nested);

                // The container's root is the container, as before.
                List<String> asRoot = askAs(0, scratch, daemon, false, mount(rootOnly, "0:" + BASE + ":1"));
                assertTrue(asRoot.get(0).startsWith("{\"version\":1,\"ok\":true"), asRoot.toString());
            }
        }
    }
}
