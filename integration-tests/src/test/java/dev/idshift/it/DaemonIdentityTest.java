package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Daemon;
import dev.idshift.it.support.Exec;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.HostUser;
import dev.idshift.it.support.PublicCopy;
import dev.idshift.it.support.RawClient;
import dev.idshift.it.support.Scratch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, items 1, 2, 3 and 11: the daemon's idea of who is asking, attacked by real
 * unprivileged users (useradd, their own /etc/subuid ranges, setpriv, `unshare -Ur`).
 * Users A and B ("isa..." names, subordinate ids 2000000-2999999: this suite's share).
 */
class DaemonIdentityTest {
    private static final long RANGE = 65536;
    /** This suite's share of the machine: user names "isa...", subordinate ids 2000000-2999999. */
    private static final String PREFIX = "isa";
    private static final long A_SUBIDS = 2_000_000;
    private static final long B_SUBIDS = 2_100_000;
    private static final String REFUSED = " is not a directory inside a mark you may use";

    /** CLOSED (0700, root) / NAME / image / file, for each name: marks under a closed ancestor. */
    private static Path closedTrees(Scratch scratch, String... names) throws IOException {
        Path closed = scratch.dir("closed");
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        for (String name : names) {
            Path image = Files.createDirectories(closed.resolve(name).resolve("image"));
            Files.writeString(image.resolve("file"), "x");
        }
        return closed;
    }

    private static Path viewOf(Scratch scratch, HostUser user) throws IOException {
        Path view = scratch.dir("view-" + user.name());
        Exec.ok(List.of("chown", user.uid() + ":" + user.gid(), view.toString()));
        return view;
    }

    /**
     * USER, in a user and mount namespace it creates itself (`unshare -Urm`), asks the daemon for
     * SOURCE with UIDMAP at VIEW, then runs THEN there; AFTER runs back in the host's namespaces.
     */
    private static Exec.Result inOwnNamespace(HostUser user, Path launcher, Daemon daemon, Path view, Path source,
                                              String uidMap, String then, String after) {
        String inside = launcher + " mount --socket " + daemon.socket() + " --uidmap " + uidMap + " " + source + " " + view
                + (then.isEmpty() ? "" : " && " + then);
        String script = "unshare --user --map-root-user --mount sh -c '" + inside + "'; echo inside-exit=$?"
                + (after.isEmpty() ? "" : "; " + after);
        return Exec.run(user.as(List.of("sh", "-c", script)), null, Map.of(), 120);
    }

    private static Path peerScript(Scratch scratch) throws IOException {
        Path script = scratch.path().resolve("peer.py");
        try (InputStream in = DaemonIdentityTest.class.getResourceAsStream("peer.py")) {
            Files.write(script, in.readAllBytes());
        }
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    /** USER's requests on one connection from the host's namespaces, one reply line each. */
    private static List<String> ask(HostUser user, Path peer, Daemon daemon, String... requests) {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", peer.toString(), "ask", daemon.socket().toString()));
        command.addAll(List.of(requests));
        Exec.Result result = Exec.run(user.as(command), null, Map.of(), 60);
        assertEquals(0, result.exit(), result.describe());
        return result.stdout().lines().toList();
    }

    /** The same from inside a user namespace USER makes with UNSHARE_OPTIONS (e.g. --map-users, through newuidmap). */
    private static List<String> askInNamespace(HostUser user, String unshareOptions, Path peer, Daemon daemon, String... requests) {
        List<String> command = new ArrayList<>(List.of("unshare"));
        command.addAll(List.of(unshareOptions.split(" ")));
        command.addAll(List.of("/usr/bin/python3", peer.toString(), "ask", daemon.socket().toString()));
        command.addAll(List.of(requests));
        Exec.Result result = Exec.run(user.as(command), null, Map.of(), 60);
        assertEquals(0, result.exit(), result.describe());
        return result.stdout().lines().toList();
    }

    private static String mountRequest(Path source, String uidMap) {
        return "{\"version\":1,\"op\":\"mount\",\"source\":\"" + source + "\",\"uidmap\":\"" + uidMap + "\"}";
    }

    private static void assertInsideRefused(Exec.Result result, String reason) {
        assertTrue(result.stdout().contains("inside-exit=6"), "refused by the daemon: " + result.describe());
        assertTrue(result.stderr().contains(reason), "expected \"" + reason + "\": " + result.describe());
    }

    private static void assertInsideServed(Exec.Result result) {
        assertTrue(result.stdout().contains("inside-exit=0"), "served: " + result.describe());
    }

    /** Item 1: an ACL entry on a 0700 ancestor opens it; `mark` refuses, and the daemon refuses a mark loosened later. */
    @Test
    void anAncestorOpenedByAnAclIsRefusedWhenMarkedAndWhenUsed() throws Exception {
        Host.requireExecutable("setfacl");
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS)) {
            Path closed = closedTrees(scratch, "a");
            Path marked = closed.resolve("a");
            Path image = marked.resolve("image");
            Path view = viewOf(scratch, a);
            Path launcher = PublicCopy.of(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                Exec.ok(List.of("setfacl", "-m", "u:" + a.name() + ":x", closed.toString()));
                assertEquals("rwx--x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(closed)), "0710: the mask");
                Exec.Result withAcl = daemon.idshift("mark", marked.toString(), "--owner", String.valueOf(a.uid()));
                assertEquals(3, withAcl.exit(), withAcl.describe());
                assertTrue(withAcl.stderr().contains("unprivileged users can traverse"), withAcl.describe());

                Exec.ok(List.of("setfacl", "-b", closed.toString()));
                Exec.ok(List.of("chmod", "0700", closed.toString()));
                assertEquals(0, daemon.idshift("mark", marked.toString(), "--owner", String.valueOf(a.uid())).exit());
                assertInsideServed(inOwnNamespace(a, launcher, daemon, view, image, "0:" + a.uid() + ":1", "", ""));

                // Loosened after marking: the setuid-`id` escalation of the issue, step by step.
                Exec.ok(List.of("setfacl", "-m", "u:" + a.name() + ":x", closed.toString()));
                Exec.Result attack = inOwnNamespace(a, launcher, daemon, view, image, "0:" + a.uid() + ":1",
                        "cp /usr/bin/id " + view + "/id && chmod 4755 " + view + "/id", image + "/id -u; echo host-run-exit=$?");
                assertInsideRefused(attack, "mark " + marked + " is no longer safe to use: ");
                assertTrue(attack.stderr().contains("unprivileged users can traverse"), attack.describe());
                assertFalse(Files.exists(image.resolve("id")), "no setuid copy planted: " + attack.describe());
                assertFalse(attack.stdout().lines().anyMatch(line -> line.equals("0")), "never euid 0: " + attack.describe());

                Exec.ok(List.of("setfacl", "-b", closed.toString()));
                Exec.ok(List.of("chmod", "0711", closed.toString()));
                assertInsideRefused(inOwnNamespace(a, launcher, daemon, view, image, "0:" + a.uid() + ":1", "", ""),
                        "is no longer safe to use");

                // Root may still accept a reachable tree knowingly: a mark that needed --force stays as root accepted it.
                assertEquals(0, daemon.idshift("mark", marked.toString(), "--owner", String.valueOf(a.uid()), "--force").exit());
                assertInsideServed(inOwnNamespace(a, launcher, daemon, view, image, "0:" + a.uid() + ":1", "", ""));
            }
        }
    }

    /** Item 2: `unshare -Ur` no longer makes user B a container that may use any mark. */
    @Test
    void aUserNamespaceIsItsCreatorsNotAPassToEveryMark() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS); HostUser b = HostUser.create(PREFIX, B_SUBIDS)) {
            Path closed = closedTrees(scratch, "a", "root", "sub");
            Path viewA = viewOf(scratch, a);
            Path viewB = viewOf(scratch, b);
            Path launcher = PublicCopy.of(scratch);
            Path peer = peerScript(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", closed.resolve("a").toString(), "--owner", String.valueOf(a.uid())).exit());
                assertEquals(0, daemon.idshift("mark", closed.resolve("root").toString()).exit());
                assertEquals(0, daemon.idshift("mark", closed.resolve("sub").toString(), "--allow-subids").exit());
                String plant = "touch " + viewB + "/planted";
                String bOwn = "0:" + b.uid() + ":1";

                Exec.Result intoA = inOwnNamespace(b, launcher, daemon, viewB, closed.resolve("a/image"), bOwn, plant, "");
                Exec.Result intoRootOnly = inOwnNamespace(b, launcher, daemon, viewB, closed.resolve("root/image"), bOwn, plant, "");
                Exec.Result subids = inOwnNamespace(b, launcher, daemon, viewB, closed.resolve("sub/image"), bOwn,
                        "stat -c %u:%g " + viewB + "/file", "");
                Exec.Result subidRange = inOwnNamespace(b, launcher, daemon, viewB, closed.resolve("sub/image"), b.subidExtent(0), "", "");
                Exec.Result othersRange = inOwnNamespace(b, launcher, daemon, viewB, closed.resolve("sub/image"), a.subidExtent(0), "", "");
                Exec.Result ownerInOwnNamespace = inOwnNamespace(a, launcher, daemon, viewA, closed.resolve("a/image"),
                        "0:" + a.uid() + ":1", "stat -c %u:%g " + viewA + "/file", "");
                List<String> fromHost = ask(b, peer, daemon, mountRequest(closed.resolve("a/image"), bOwn));
                // Root inside a namespace B made with newuidmap is host uid 2100000, not B: still B's.
                List<String> fromSubuid = askInNamespace(b, "--map-users=" + b.subidBase() + ",0," + RANGE + " --map-groups="
                        + b.subidBase() + ",0," + RANGE, peer, daemon, mountRequest(closed.resolve("sub/image"), b.subidExtent(0)),
                        mountRequest(closed.resolve("a/image"), b.subidExtent(0)));

                assertInsideRefused(intoA, closed.resolve("a/image") + REFUSED);
                assertInsideRefused(intoRootOnly, closed.resolve("root/image") + REFUSED);
                assertFalse(Files.exists(closed.resolve("a/image/planted")), "nothing written into A's tree");
                assertFalse(Files.exists(closed.resolve("root/image/planted")), "nothing written into the root-only tree");
                assertInsideServed(subids);
                assertTrue(subids.stdout().contains("0:0"), "--allow-subids still works for a user: " + subids.describe());
                assertInsideServed(subidRange);
                assertInsideRefused(othersRange, "names host uid " + a.subidBase() + ", which the caller does not own");
                assertInsideServed(ownerInOwnNamespace);
                assertTrue(ownerInOwnNamespace.stdout().contains("0:0"), ownerInOwnNamespace.describe());
                assertEquals(List.of("{\"version\":1,\"ok\":false,\"error\":\"" + closed.resolve("a/image") + REFUSED + "\"}"), fromHost,
                        "the same from the host's namespace");
                assertTrue(fromSubuid.get(0).contains("\"ok\":true"), "B's subids from B's newuidmap namespace: " + fromSubuid);
                assertEquals("{\"version\":1,\"ok\":false,\"error\":\"" + closed.resolve("a/image") + REFUSED + "\"}", fromSubuid.get(1));
            }
        }
    }

    /** Item 3: a connection speaks for the process that made it, never for whatever has its pid later. */
    @Test
    void aConnectionOutlivingItsProcessIsRefusedEvenWhenThePidIsReused() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS); HostUser b = HostUser.create(PREFIX, B_SUBIDS)) {
            Path closed = closedTrees(scratch, "a");
            Path peer = peerScript(scratch);
            Path exchange = scratch.dir("handoff");
            Files.setPosixFilePermissions(exchange, PosixFilePermissions.fromString("rwxrwxrwx"));
            Path image = closed.resolve("a/image");
            String aOwn = "0:" + a.uid() + ":1";
            String request = mountRequest(image, aOwn);
            Process placer = null;
            long victim = -1;
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", closed.resolve("a").toString(), "--owner", String.valueOf(a.uid())).exit());
                assertTrue(ask(a, peer, daemon, request).get(0).contains("\"ok\":true"), "A itself, alive, is served");

                // B connects (and is served status), hands the socket to a child, and the connecting process exits (and is reaped).
                Process handoff = new ProcessBuilder(b.as(List.of("/usr/bin/python3", peer.toString(), "handoff",
                        daemon.socket().toString(), exchange.toString(), request, request)))
                        .redirectErrorStream(true).redirectOutput(scratch.path().resolve("handoff.log").toFile()).start();
                assertTrue(handoff.waitFor(30, TimeUnit.SECONDS), "the connecting process exits");
                assertEquals(0, handoff.exitValue(), "served while it lived: " + Files.readString(scratch.path().resolve("handoff.log")));
                long connected = Long.parseLong(awaitFile(exchange.resolve("pid")));
                assertEquals(handoff.pid(), connected);

                Files.createFile(exchange.resolve("go1"));
                String afterExit = awaitFile(exchange.resolve("reply1"));
                assertTrue(afterExit.contains("\"ok\":false") && afterExit.contains("the process that connected (pid " + connected
                        + ") has exited"), afterExit);

                // Now put A's own user-namespaced process at that pid, as natural wrap-around would.
                placer = new ProcessBuilder(List.of("/usr/bin/python3", peer.toString(), "place", String.valueOf(connected),
                        "setpriv", "--reuid=" + a.uid(), "--regid=" + a.gid(), "--clear-groups", "unshare", "--user", "--map-root-user",
                        "sleep", "60")).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String placed = new java.io.BufferedReader(new java.io.InputStreamReader(placer.getInputStream())).readLine();
                assertEquals(String.valueOf(connected), placed, "the test could not place a process at pid " + connected
                        + " (another process took it 500 times)");
                victim = connected;
                awaitOwnNamespace(victim);
                assertEquals(String.valueOf(a.uid()), Exec.ok(List.of("stat", "-c", "%u", "/proc/" + victim)).stdout().trim(),
                        "pid " + victim + " is A's now");

                Files.createFile(exchange.resolve("go2"));
                String afterReuse = awaitFile(exchange.resolve("reply2"));
                assertTrue(afterReuse.contains("\"ok\":false") && afterReuse.contains("has exited"),
                        "A's process at the same pid does not speak for B's connection: " + afterReuse);
            } finally {
                if (victim > 0) {
                    ProcessHandle.of(victim).ifPresent(ProcessHandle::destroyForcibly);
                }
                if (placer != null) {
                    placer.destroyForcibly();
                    placer.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Item 11: a user learns nothing from refusals it could not see for itself. */
    @Test
    void refusalsAreTheSameWhetherOrNotThePathExists() throws Exception {
        try (Scratch scratch = new Scratch(); HostUser a = HostUser.create(PREFIX, A_SUBIDS); HostUser b = HostUser.create(PREFIX, B_SUBIDS)) {
            Path closed = closedTrees(scratch, "a", "sub");
            Path secret = scratch.dir("secret");
            Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
            Files.createDirectories(secret.resolve("exists"));
            Files.writeString(secret.resolve("file"), "x");
            Path peer = peerScript(scratch);
            try (Daemon daemon = Daemon.start(scratch.dir("daemon"), scratch.dir("state"), Path.of("/etc"))) {
                assertEquals(0, daemon.idshift("mark", closed.resolve("a").toString(), "--owner", String.valueOf(a.uid())).exit());
                assertEquals(0, daemon.idshift("mark", closed.resolve("sub").toString(), "--allow-subids").exit());
                String bOwn = "0:" + b.uid() + ":1";
                List<Path> probes = List.of(secret.resolve("exists"), secret.resolve("missing"), secret.resolve("file"),
                        secret.resolve("exists/../file"), closed.resolve("a/image"), closed.resolve("a/none"), closed.resolve("a/image/file"));
                List<String> requests = new ArrayList<>();
                for (Path probe : probes) {
                    requests.add(mountRequest(probe, bOwn));
                }
                String identity = "0:0:4294967295";
                String shift = "{\"version\":1,\"op\":\"shift\",\"source\":\"" + closed.resolve("a/image") + "\",\"containerUidmap\":\""
                        + identity + "\",\"containerGidmap\":\"" + identity + "\"}";
                requests.add(shift);
                requests.add("{\"version\":1,\"op\":\"marks\"}");
                requests.add("{\"version\":1,\"op\":\"status\"}");
                List<String> replies = ask(b, peer, daemon, requests.toArray(new String[0]));

                for (int i = 0; i < probes.size(); i++) {
                    assertEquals("{\"version\":1,\"ok\":false,\"error\":\"SOURCE" + REFUSED + "\"}",
                            replies.get(i).replace(probes.get(i).toString(), "SOURCE"), "probe " + probes.get(i));
                }
                assertEquals("{\"version\":1,\"ok\":false,\"error\":\"" + closed.resolve("a/image") + REFUSED + "\"}",
                        replies.get(probes.size()), "shift authorises before answering noop");
                String marks = replies.get(probes.size() + 1);
                assertTrue(marks.contains(closed.resolve("sub").toString()), marks);
                assertFalse(marks.contains(closed.resolve("a").toString() + "\""), "A's mark is not B's business: " + marks);
                assertFalse(marks.contains("\"owner\""), marks);
                assertTrue(replies.get(probes.size() + 2).contains("\"marks\":1"), replies.get(probes.size() + 2));

                // The controls: the same shift is a noop for root, and A sees its own mark.
                try (RawClient root = new RawClient(daemon.socket())) {
                    assertTrue(root.request(shift).contains("\"noop\":true"), "a noop indeed, for one who may use the mark");
                }
                assertTrue(ask(a, peer, daemon, "{\"version\":1,\"op\":\"marks\"}").get(0).contains("\"owner\":" + a.uid()));
            }
        }
    }

    private static String awaitFile(Path file) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(file + " did not appear within 30 s");
            }
            Thread.sleep(10);
        }
        return Files.readString(file);
    }

    /** Waits until PID has left the host's user namespace (unshare has run and exec'd sleep). */
    private static void awaitOwnNamespace(long pid) throws Exception {
        Path ours = Files.readSymbolicLink(Path.of("/proc/self/ns/user"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")).equals(ours)
                || !Files.readString(Path.of("/proc/" + pid + "/comm")).trim().equals("sleep")) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("pid " + pid + " did not reach its own user namespace");
            }
            Thread.sleep(10);
        }
    }
}
