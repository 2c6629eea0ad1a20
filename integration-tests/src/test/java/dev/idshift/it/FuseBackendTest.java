package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseServers;
import dev.idshift.it.support.FuseView;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Leftovers;
import dev.idshift.it.support.MountTable;
import dev.idshift.it.support.Scratch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The FUSE backend with real tools through a real mount. The map is the "already shifted on disk"
 * one (on-disk 100000.. shown as host 0..), so host root is a mapped user here: it creates, chowns,
 * setfacl's and setcap's through the view like a container's root through its rootfs.
 */
class FuseBackendTest {
    private static final String[] MAP = {"--uidmap", "100000:0:65536"};

    private static Exec.Result sh(Path cwd, String script) {
        return Exec.run(List.of("sh", "-c", "cd '" + cwd + "' && " + script));
    }

    private static String owner(Path path) {
        return Exec.ok(List.of("stat", "-c", "%u:%g", path.toString())).stdout().trim();
    }

    @Test
    void everydayToolsWorkAndIdsMapBothWays() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("git");
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Path tarTree = scratch.dir("tartree");
            Exec.ok(List.of("sh", "-c", "cd '" + tarTree + "' && mkdir -p a/b && echo one > a/one && echo two > a/b/two"
                    + " && chown 1000:1000 a/one && chown 5000:6000 a/b/two && ln -s one a/link && ln a/one a/hard"
                    + " && chmod 4755 a/b/two && tar -cf ../tree.tar ."));
            Exec.ok(List.of("chown", "100000:100000", source.toString()));
            try (FuseView view = FuseView.mount(source, scratch.dir("view"), MAP)) {
                assertTrue(view.mountOutput().contains("FUSE"), view.mountOutput());
                Path v = view.path();
                // tar -x of mixed owners: shown as written, stored shifted; setuid kept; links kept.
                Exec.ok(List.of("tar", "-xpf", scratch.path().resolve("tree.tar").toString(), "-C", v.toString()));
                assertEquals("1000:1000", owner(v.resolve("a/one")));
                assertEquals("101000:101000", owner(source.resolve("a/one")));
                assertEquals("105000:106000", owner(source.resolve("a/b/two")));
                assertEquals("4755", Exec.ok(List.of("stat", "-c", "%a", v.resolve("a/b/two").toString())).stdout().trim());
                assertEquals("one", Files.readSymbolicLink(v.resolve("a/link")).toString());
                // A hard link: one inode. (The other name's cached link count may lag up to attr_timeout, 1 s.)
                assertEquals(Exec.ok(List.of("stat", "-c", "%i", v.resolve("a/one").toString())).stdout(),
                        Exec.ok(List.of("stat", "-c", "%i", v.resolve("a/hard").toString())).stdout());
                assertEquals("2", Exec.ok(List.of("stat", "-c", "%h", v.resolve("a/hard").toString())).stdout().trim());

                // cp -a keeps owners, modes and links through the view.
                Exec.ok(List.of("cp", "-a", v.resolve("a").toString(), v.resolve("copy").toString()));
                assertEquals("5000:6000", owner(v.resolve("copy/b/two")));
                assertEquals("105000:106000", owner(source.resolve("copy/b/two")));

                // git init && commit
                Exec.Result git = sh(v, "mkdir repo && cd repo && git init -q && git config user.email t@t && git config user.name t"
                        + " && echo hi > f && git add f && git commit -qm first && git log --oneline | wc -l");
                assertEquals(0, git.exit(), git.describe());
                assertEquals("1", git.stdout().trim());

                // mkfifo, a device node, chown to mapped and unmapped ids
                Exec.ok(List.of("mkfifo", v.resolve("fifo").toString()));
                assertEquals("fifo", Exec.ok(List.of("stat", "-c", "%F", v.resolve("fifo").toString())).stdout().trim());
                Exec.ok(List.of("mknod", v.resolve("null").toString(), "c", "1", "3"));
                assertEquals("100000:100000", owner(source.resolve("null")));
                Exec.ok(List.of("chown", "1234:4321", v.resolve("fifo").toString()));
                assertEquals("101234:104321", owner(source.resolve("fifo")));
                Exec.Result unmapped = Exec.run(List.of("chown", "70000", v.resolve("fifo").toString()));
                assertNotEquals(0, unmapped.exit(), unmapped.describe());
                assertTrue(unmapped.stderr().contains("Value too large"), unmapped.describe());
                assertEquals("101234:104321", owner(source.resolve("fifo")), "a refused chown changes nothing");

                // On-disk ids outside the map show as the overflow id.
                Files.writeString(source.resolve("stray"), "x");
                assertEquals("65534:65534", owner(v.resolve("stray")));

                // rename over an existing file; a file held open while unlinked
                Files.writeString(v.resolve("old"), "new content");
                Files.writeString(v.resolve("target"), "old content");
                Exec.ok(List.of("mv", v.resolve("old").toString(), v.resolve("target").toString()));
                assertEquals("new content", Files.readString(v.resolve("target")));
                Exec.Result heldOpen = sh(v, "echo kept > held && exec 3<held && rm held && cat <&3 && ! test -e held");
                assertEquals(0, heldOpen.exit(), heldOpen.describe());
                assertEquals("kept", heldOpen.stdout().trim());

                // statfs: df through the mount is df of the source
                assertEquals(Exec.ok(List.of("stat", "-f", "-c", "%b %a %c", source.toString())).stdout().split(" ")[0],
                        Exec.ok(List.of("stat", "-f", "-c", "%b %a %c", v.toString())).stdout().split(" ")[0]);
            }
            assertTrue(MountTable.snapshot().stream().noneMatch(line -> line.startsWith(scratch.path() + "/view ")));
        }
    }

    /** getfacl/getcap through the FUSE view agree with the kernel backend's view of the same tree and map. */
    @Test
    void aclsAndCapabilitiesAgreeWithTheKernelBackend() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("setfacl");
        Host.requireExecutable("setcap");
        try (Scratch scratch = new Scratch()) {
            Map<String, List<String>> seen = new java.util.LinkedHashMap<>();
            for (String backend : List.of("kernel", "fuse")) {
                Path source = scratch.dir(backend + "-source");
                Exec.ok(List.of("chown", "100000:100000", source.toString()));
                Path view = scratch.dir(backend + "-view");
                Exec.ok(List.of(Host.launcher().toString(), "mount", "--backend", backend, MAP[0], MAP[1], source.toString(), view.toString()));
                try {
                    List<String> results = new ArrayList<>();
                    Exec.ok(List.of("sh", "-c", "cd '" + view + "' && touch f g && mkdir d"
                            + " && setfacl -m u:1000:rw,g:2000:r f && setfacl -d -m u:3000:rwx d && setcap cap_net_raw+ep g"));
                    results.add(Exec.ok(List.of("getfacl", "-n", "-p", view.resolve("f").toString())).stdout().replace(view.toString(), "V"));
                    results.add(Exec.ok(List.of("getfacl", "-n", "-p", view.resolve("d").toString())).stdout().replace(view.toString(), "V"));
                    results.add(Exec.ok(List.of("getcap", "-n", view.resolve("g").toString())).stdout().replace(view.toString(), "V"));
                    // On disk: the ACL's ids and the capability's root id stored shifted.
                    results.add(Exec.ok(List.of("getfacl", "-n", "-p", source.resolve("f").toString())).stdout().replace(source.toString(), "S"));
                    results.add(Exec.ok(List.of("getfattr", "-e", "hex", "-n", "security.capability", source.resolve("g").toString()))
                            .stdout().replace(source.toString().substring(1), "S"));  // getfattr drops the leading /
                    // An ACL naming a host id outside the map is refused by both.
                    results.add("unmapped ACL exit " + Exec.run(List.of("setfacl", "-m", "u:70000:r", view.resolve("f").toString())).exit());
                    seen.put(backend, results);
                } finally {
                    Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
                }
            }
            assertEquals(seen.get("kernel"), seen.get("fuse"));
            assertTrue(seen.get("fuse").get(0).contains("user:1000:rw-"), seen.get("fuse").get(0));
            assertTrue(seen.get("fuse").get(3).contains("user:101000:rw-"), seen.get("fuse").get(3));
            assertTrue(seen.get("fuse").get(4).contains("0x01000003"), "v3 capability with its root id on disk: " + seen.get("fuse").get(4));
        }
    }

    /**
     * `idshift umount` returns only once the server has let go of the source: the source's own
     * umount right after succeeds (it used to fail with "target is busy" for ~1 s while the
     * server's threads were still exiting). A few rounds, as the race was not every time.
     */
    @Test
    void theSourceCanBeUnmountedRightAfterUmount() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            for (int round = 0; round < 5; round++) {
                Exec.ok(List.of("mount", "-t", "tmpfs", "isd-source", source.toString()));
                try {
                    Files.writeString(source.resolve("file"), "x");
                    FuseView mounted = FuseView.mount(source, view, "--uidmap", "0:100000:65536");
                    Exec.ok(List.of("cat", mounted.resolve("file").toString()));
                    Exec.Result umount = mounted.umount();
                    assertEquals(0, umount.exit(), umount.describe());
                } finally {
                    Exec.Result sourceUmount = Exec.run(List.of("umount", source.toString()));
                    if (sourceUmount.exit() != 0) {
                        Exec.run(List.of("umount", "--lazy", source.toString()));
                    }
                    assertEquals(0, sourceUmount.exit(), "round " + round + ": " + sourceUmount.describe());
                }
            }
        }
    }

    @Test
    void aKilledServerLeavesACleanErrorAndUmountRecovers() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Files.writeString(source.resolve("file"), "data");
            Path viewPath = scratch.dir("view");
            try (FuseView view = FuseView.mount(source, viewPath, MAP)) {
                assertEquals("data", Files.readString(view.resolve("file")));
                Exec.Result busy = Exec.run(List.of("sh", "-c", "exec 3<'" + view.resolve("file") + "'; kill -9 " + view.serverPid()
                        + "; sleep 0.3; cat '" + view.resolve("file") + "'"));
                assertNotEquals(0, busy.exit());
                assertTrue(busy.stderr().contains("Transport endpoint is not connected"), busy.describe());
                assertFalse(view.serverAlive());

                Exec.Result umount = view.umount();
                assertEquals(0, umount.exit(), umount.describe());
                assertTrue(MountTable.snapshot().stream().noneMatch(line -> line.startsWith(viewPath + " ")), "dead mount removed");
            }
            // Recoverable: the same view mounts again and works.
            try (FuseView again = FuseView.mount(source, viewPath, MAP)) {
                assertEquals("data", Files.readString(again.resolve("file")));
                assertEquals(0, again.umount().exit());
                Thread.sleep(200);
                assertFalse(again.serverAlive(), "umount stops the server");
            }
        }
    }

    /** `idshift mount` killed while its server starts (a hook killed by its runtime): the server cleans up after itself. */
    @Test
    void aServerWhoseStarterIsKilledUnmountsAndExits() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            Process starter = new ProcessBuilder(Host.launcher().toString(), "mount", "--backend", "fuse", MAP[0], MAP[1],
                    source.toString(), view.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (FuseServers.serving(source).isEmpty() && starter.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertFalse(FuseServers.serving(source).isEmpty(), "the server started");
            starter.destroyForcibly().waitFor();
            deadline = System.nanoTime() + 15_000_000_000L;
            while (!FuseServers.serving(source).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(List.of(), FuseServers.serving(source), "the orphaned server exits");
            assertTrue(MountTable.snapshot().stream().noneMatch(line -> line.startsWith(view + " ")), "and leaves no mount");
        }
    }

    @Test
    void badInputFailsCleanly() throws Exception {
        Host.requireRoot();
        try (Scratch scratch = new Scratch()) {
            Path source = scratch.dir("source");
            // FUSE server records go to a run directory of this test's own, where a leaked one would show.
            Map<String, String> run = Map.of("IDSHIFT_RUN_DIR", scratch.dir("run").toString());
            List<String> before = Leftovers.under(scratch.path());
            Exec.Result missingTarget = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", "fuse", MAP[0], MAP[1],
                    source.toString(), scratch.path().resolve("missing").toString()), null, run, 120);
            assertEquals(3, missingTarget.exit(), missingTarget.describe());
            Exec.Result badBackend = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", "fusefs", MAP[0], MAP[1],
                    source.toString(), source.toString()), null, run, 120);
            assertEquals(3, badBackend.exit(), badBackend.describe());
            assertEquals(before, Leftovers.under(scratch.path()), "no mount or FUSE server of SRC or DST, nor under the run directory");
        }
    }
}
