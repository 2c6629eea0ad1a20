package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseTransport;
import dev.idshift.it.support.FuseView;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Scratch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The FUSE server acts as host root on the source for every caller. Each attack here runs through
 * the FUSE backend and through the kernel backend (an idmapped mount, the ground truth) with the
 * same map, 0:100000:65536, on a copy of the same tree, and the two transcripts must agree: what
 * the kernel refuses a caller, the server must not do for it as root.
 *
 * <p>The attackers are a container's processes (a user namespace host root made, 0 -> 100000, its
 * root and its uid 1000/1002) and host uid 65534 ({@code nobody}), which reaches a view made where
 * host users can (`idshift mount` warns about such places only with -o suid).
 */
class FuseAttackTest {
    private static final List<String> MAP = List.of("--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536");

    /** Runs argv as uid 0 of a new user namespace mapping 0 -> 100000 (65536), its maps written by host root. */
    private static final String IN_CONTAINER = """
            import ctypes, os, sys, time
            libc = ctypes.CDLL(None, use_errno=True)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(w)
                if libc.unshare(0x10000000) != 0:
                    sys.exit("unshare: errno %d" % ctypes.get_errno())
                os.read(r, 1)
                os.setresgid(0, 0, 0); os.setresuid(0, 0, 0)
                os.execvp(sys.argv[1], sys.argv[1:])
            os.close(r)
            while os.readlink("/proc/%d/ns/user" % pid) == os.readlink("/proc/self/ns/user"):
                time.sleep(0.01)
            for name in ("uid_map", "gid_map"):
                with open("/proc/%d/%s" % (pid, name), "w") as f:
                    f.write("0 100000 65536")
            os.write(w, b"x")
            sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            """;

    /** The tree attacked, made by host root in the source (on-disk ids). */
    private static final String TREE = """
            for f in w6777 t6777 o6777; do echo data > $f; chown 1000:1000 $f; chmod 6777 $f; done
            echo d > c6755; chown 1000:1000 c6755; chmod 6755 c6755
            echo r > r644; chmod 644 r644; echo r > r644b; chmod 644 r644b; echo s > r600; chmod 600 r600
            echo c > capfile; setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= capfile
            mkdir sticky; chmod 1777 sticky; echo r > sticky/roots
            echo t > trustedfile; setfattr -n trusted.secret -v 1 trustedfile
            mkdir sgd; chown 0:1005 sgd; chmod 2777 sgd
            echo secret > unmapped; chown 70000:70000 unmapped; chmod 600 unmapped
            echo acl > aclfile; chmod 600 aclfile; setfacl -m u:70000:rw,g:70000:rw aclfile
            """;

    /** Run by the container's root in the view: each line "label: exit N output". */
    private static final String ATTACKS = """
            U() { u=$1; shift; setpriv --reuid $u --regid $u --clear-groups "$@"; }
            say() { label=$1; shift; out=$("$@" 2>&1); echo "$label: exit $? $(echo "$out" | sed "s#$PWD#VIEW#g" | tr '\\n' ' ')"; }
            st() { stat -c '%a %u:%g %s' "$@"; }
            # a non-root writer that is neither owner nor in the group clears setuid and setgid
            say write U 1002 sh -c 'echo x >> w6777'
            say write-after st w6777
            say truncate U 1002 truncate -s 1 t6777
            say truncate-after st t6777
            say open-trunc U 1002 sh -c ': > o6777'
            say open-trunc-after st o6777
            say chown-by-owner U 1000 chown 1000:1001 c6755
            say chown-after st c6755
            # a non-root user on root's files: every change the kernel refuses
            say utimes U 1000 touch -d 2001-01-01 r644
            say touch U 1000 touch r644
            say truncate-other U 1000 truncate -s 0 r644
            say chmod-other U 1000 chmod 777 r644
            say user-xattr U 1000 setfattr -n user.x -v 1 r644
            say trusted-xattr U 1000 setfattr -n trusted.x -v 1 r644
            say security-xattr U 1000 setfattr -n security.x -v 1 r644
            say set-capability U 1000 setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= r644
            say remove-capability U 1000 setfattr -x security.capability capfile
            say noatime U 1000 python3 -c 'import os; os.open("r644", os.O_RDONLY | os.O_NOATIME)'
            say fallocate U 1000 fallocate -l 1M r644
            say hardlink-other U 1000 ln r600 sticky/mylink
            say rename-over-sticky U 1000 sh -c 'echo a > sticky/mine; mv -f sticky/mine sticky/roots'
            say unlink-sticky U 1000 rm -f sticky/roots
            say read-600 U 1000 cat r600
            # the container's root: nothing a host capability guards
            say trusted-root setfattr -n trusted.overlay.opaque -v y trustedfile
            say security-root setfattr -n security.evil -v 1 trustedfile
            say mknod-char mknod dev c 1 3
            say mknod-block mknod devb b 7 0
            say chown-unmapped chown 70000 r644
            say list-xattrs getfattr -d -m - trustedfile
            say capability-root setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= r644b
            say capability-shown getfattr -e hex -n security.capability r644b
            say unmapped-owner st unmapped
            say unmapped-read cat unmapped
            say unmapped-chmod chmod 666 unmapped
            say acl-unmapped-read U 1000 cat aclfile
            # a setgid directory of a group the creator is not in
            say setgid-dir U 1000 sh -c 'umask 0; mkdir sgd/sub; python3 -c "import os; os.open(\\"sgd/f\\", os.O_CREAT | os.O_WRONLY, 0o2755)"; stat -c "%a %u:%g" sgd/sub sgd/f'
            """;

    /** Run by host uid 65534 in the view. */
    private static final String AS_NOBODY = """
            say() { label=$1; shift; out=$("$@" 2>&1); echo "$label: exit $? $(echo "$out" | sed "s#$PWD#VIEW#g" | tr '\\n' ' ')"; }
            say owner stat -c '%u:%g %a' unmapped
            say read-unmapped cat unmapped
            say chmod-unmapped chmod 666 unmapped
            say read-acl cat aclfile
            say write-acl sh -c 'echo x >> aclfile'
            """;

    @Test
    void aContainersProcessesGetNothingThroughFuseThatTheKernelRefuses() throws Exception {
        Host.requireRoot();
        for (String tool : List.of("python3", "setfacl", "setfattr", "getfattr", "fallocate")) {
            Host.requireExecutable(tool);
        }
        try (Scratch scratch = new Scratch()) {
            Path helper = script(scratch, "in-container.py", IN_CONTAINER);
            Path attacks = script(scratch, "attacks.sh", ATTACKS);
            Path asNobody = script(scratch, "as-nobody.sh", AS_NOBODY);
            Map<String, String> seen = new LinkedHashMap<>();
            Map<String, String> onDisk = new LinkedHashMap<>();
            for (String backend : List.of("kernel", "fuse")) {
                Path source = scratch.dir(backend + "-source");
                Exec.ok(List.of("sh", "-c", "cd '" + source + "' && " + TREE));
                Path view = scratch.dir(backend + "-view");
                mount(backend, source, view);
                try {
                    Exec.Result container = Exec.run(List.of("sh", "-c", "cd \"$1\" && exec python3 \"$2\" sh \"$3\"", "sh",
                            view.toString(), helper.toString(), attacks.toString()));
                    Exec.Result nobody = Exec.run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
                            "cd \"$1\" && exec sh \"$2\"", "sh", view.toString(), asNobody.toString()));
                    seen.put(backend, container.stdout() + container.stderr() + "-- as nobody\n" + nobody.stdout() + nobody.stderr());
                } finally {
                    Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
                }
                onDisk.put(backend, Exec.ok(List.of("sh", "-c", "cd '" + source + "' && stat -c '%n %a %u:%g %s' * sgd/* sticky/*"
                        + " && getfacl -n -p aclfile")).stdout());
            }
            assertEquals(seen.get("kernel"), seen.get("fuse"));
            assertEquals(onDisk.get("kernel"), onDisk.get("fuse"));
            String fuse = seen.get("fuse");
            assertTrue(fuse.contains("write-after: exit 0 777 1000:1000"), fuse);
            assertTrue(fuse.contains("read-unmapped: exit 1"), fuse);
            assertTrue(fuse.contains("chmod-unmapped: exit 1"), fuse);
            assertTrue(fuse.contains("read-acl: exit 1"), fuse);
            assertTrue(onDisk.get("fuse").contains("unmapped 600 70000:70000"), onDisk.get("fuse"));
        }
    }

    /**
     * ext4 keeps blocks for uid 0 (its resuid) and CAP_SYS_RESOURCE. Through an idmapped mount a
     * container's processes write as their own host ids and stop short of them; the FUSE server
     * writes for them, and as fsuid 0 it let them fill the filesystem to the last block.
     */
    @Test
    void aContainerCannotTakeTheBlocksTheSourceKeepsForRoot() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("python3");
        Host.requireExecutable("mkfs.ext4");
        try (Scratch scratch = new Scratch()) {
            Path helper = script(scratch, "in-container.py", IN_CONTAINER);
            Path image = scratch.path().resolve("small.ext4");
            Exec.ok(List.of("truncate", "-s", "64M", image.toString()));
            Exec.ok(List.of("mkfs.ext4", "-q", "-m", "10", image.toString()));
            Path filesystem = scratch.dir("filesystem");
            Exec.ok(List.of("mount", "-o", "loop", image.toString(), filesystem.toString()));
            try {
                Map<String, String> written = new LinkedHashMap<>();
                for (String backend : List.of("kernel", "fuse")) {
                    Path source = Files.createDirectory(filesystem.resolve(backend));
                    Exec.ok(List.of("chmod", "1777", source.toString()));
                    Path view = scratch.dir(backend + "-view");
                    mount(backend, source, view);
                    try {
                        for (String who : List.of("0", "1000")) {
                            Path fill = view.resolve("fill-" + who);
                            Exec.run(List.of("python3", helper.toString(), "setpriv", "--reuid=" + who, "--regid=" + who, "--clear-groups",
                                    "dd", "if=/dev/zero", "of=" + fill, "bs=1M"));
                            written.merge(backend, who + ": " + Files.size(source.resolve("fill-" + who)) + "\n", String::concat);
                            Files.delete(fill);  // through the view: a node the kernel keeps holds the inode's blocks
                        }
                    } finally {
                        Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
                    }
                }
                assertEquals(written.get("kernel"), written.get("fuse"));
                // host root itself, for scale: it may take them
                Path rootFill = filesystem.resolve("kernel/by-root");
                Exec.run(List.of("dd", "if=/dev/zero", "of=" + rootFill, "bs=1M"));
                long byRoot = Files.size(rootFill);
                long byContainer = Long.parseLong(written.get("fuse").lines().findFirst().orElseThrow().split(": ")[1]);
                assertTrue(byContainer + 4 * 1024 * 1024 < byRoot, written + " root " + byRoot);
            } finally {
                Exec.run(List.of("umount", filesystem.toString()));
            }
        }
    }

    /** Host root (or another view of the same source) makes a 0600 file again and again, and removes it. */
    private static final String VICTIM = """
            import os, sys, time
            end = time.time() + float(sys.argv[2])
            while time.time() < end:
                try:
                    fd = os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
                except FileExistsError:
                    continue
                os.write(fd, b"root's secret\\n"); os.close(fd)
                try:
                    os.unlink(sys.argv[1])
                except FileNotFoundError:
                    pass
            """;

    /** A user opens the same name with O_CREAT (no O_EXCL) through the view: it must only ever get its own file. */
    private static final String RACER = """
            import os, sys, time
            end = time.time() + float(sys.argv[2]); me = os.getuid(); tries = 0
            while time.time() < end:
                tries += 1
                try:
                    fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
                except OSError:
                    continue
                if os.fstat(fd).st_uid != me:
                    print("got another's file after %d tries: %r" % (tries, os.pread(fd, 100, 0))); sys.exit(1)
                os.close(fd)
                try:
                    os.unlink(sys.argv[1])
                except OSError:
                    pass
            print("only its own files in %d tries" % tries)
            """;

    /**
     * The kernel sends CREATE for a name it saw missing and then takes the open file as the caller's
     * new one: it checks neither permission nor O_TRUNC on it. A server that opened a file made
     * meanwhile behind the kernel's back (by host root on the source, or by another container's view of
     * a shared source) gave a container's uid 1000 host root's 0600 file read-write: on main, within
     * ~30,000 tries (a few seconds here). Through an idmapped mount the directory's lock rules it out.
     */
    @Test
    void aCreateRacingAnotherCreatorNeverOpensItsFile() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("python3");
        try (Scratch scratch = new Scratch()) {
            Path helper = script(scratch, "in-container.py", IN_CONTAINER);
            Path victim = script(scratch, "victim.py", VICTIM);
            Path racer = script(scratch, "racer.py", RACER);
            Path source = scratch.dir("source");
            Exec.ok(List.of("chmod", "1777", source.toString()));
            Path view = scratch.dir("view");
            mount("fuse", source, view);
            try {
                Process host = new ProcessBuilder("python3", victim.toString(), source.resolve("x").toString(), "12")
                        .redirectErrorStream(true).start();
                Exec.Result race = Exec.run(List.of("python3", helper.toString(), "setpriv", "--reuid=1000", "--regid=1000",
                        "--clear-groups", "python3", racer.toString(), view.resolve("x").toString(), "10"));
                host.waitFor();
                assertEquals(0, race.exit(), race.describe());
                assertTrue(race.stdout().startsWith("only its own files"), race.describe());
            } finally {
                Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
            }
        }
    }

    /**
     * Python both racers below start with. arm() gives their src (set after) on-disk 1000:1100 and
     * 06777; child(uid, serve) forks serve(input, output) as uid (no groups): asked(request) serves
     * request() per "g" read, delayed(setup, act) act(setup()'s result) after each wait (ns) read.
     * race() makes src, runs request() through the view alone once (printing the mode left), then 51
     * times for its median time, then TRIES times with act on the source a random moment from
     * earliest(median) to the median later: how often lost() holds after, how many requests failed.
     */
    private static final String RACE_PARTS = """
            import os, random, struct, sys, time
            def arm():
                os.chown(src, 1000, 1100); os.chmod(src, 0o6777)
            def child(uid, serve):
                r1, w1 = os.pipe(); r2, w2 = os.pipe()
                if os.fork() == 0:
                    os.close(w1); os.close(r2)
                    os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
                    serve(os.fdopen(r1, "rb", 0), os.fdopen(w2, "wb", 0)); os._exit(0)
                os.close(r1); os.close(w2)
                return os.fdopen(w1, "wb", 0), os.fdopen(r2, "rb", 0)
            def asked(request):
                def serve(inp, out):
                    while inp.read(1) == b"g":
                        try:
                            request(); out.write(b"o")
                        except OSError:
                            out.write(b"e")
                return serve
            def delayed(setup, act):
                def serve(inp, out):
                    state = setup()
                    while True:
                        wait = inp.read(4)
                        if len(wait) < 4:
                            return
                        until = time.perf_counter() + struct.unpack("<I", wait)[0] / 1e9
                        while time.perf_counter() < until:
                            pass
                        act(state); out.write(b"d")
                return serve
            def race(view_uid, request, source_uid, setup, act, earliest, tries, lost):
                with open(src, "w") as f:
                    f.write("s")
                arm()
                to_view, from_view = child(view_uid, asked(request))
                to_source, from_source = child(source_uid, delayed(setup, act))
                to_view.write(b"g"); from_view.read(1)
                print("alone %o" % (os.stat(src).st_mode & 0o7777))
                took = []
                for _ in range(51):
                    arm(); start = time.perf_counter_ns(); to_view.write(b"g"); from_view.read(1)
                    took.append(time.perf_counter_ns() - start)
                took = sorted(took)[25]
                hits = failed = 0
                for _ in range(tries):
                    arm()
                    to_source.write(struct.pack("<I", random.randint(earliest(took), took))); to_view.write(b"g")
                    failed += from_view.read(1) != b"o"; from_source.read(1)
                    hits += lost()
                to_view.write(b"q"); to_source.close()
                return hits, failed, took
            """;

    /**
     * Run by host root: argv SOURCE-FILE VIEW-FILE TRIES. The file (on disk 1000:1100, 06777) gets an
     * access ACL through the view from its owner (host uid 101000, not in the group: setgid is to go),
     * while on-disk uid 1002, neither owner nor in the group, writes it on the source a random moment
     * later (within the time an ACL write alone takes): every write clears setuid, so setuid left
     * afterwards is a write's clearing undone.
     */
    private static final String ACL_RACER = RACE_PARTS + """
            src, view, tries = sys.argv[1], sys.argv[2], int(sys.argv[3])
            acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, i) for tag, perm, i in
                    ((1, 7, 0xffffffff), (2, 4, 101003), (4, 7, 0xffffffff), (0x10, 7, 0xffffffff), (0x20, 7, 0xffffffff)))
            # the chmod, if any, comes last: writes aimed at the last two thirds of an ACL write's median time
            kept, failed, _ = race(101000, lambda: os.setxattr(view, "system.posix_acl_access", acl),
                    1002, lambda: os.open(src, os.O_WRONLY), lambda fd: os.pwrite(fd, b"x", 0), lambda took: took // 3, tries,
                    lambda: os.stat(src).st_mode & 0o4000 != 0)
            print("setuid put back after %d of %d, %d ACL writes failed" % (kept, tries, failed))
            """;

    /**
     * The source's kernel clears setgid as it writes an access ACL for a writer outside the file's
     * group (posix_acl_update_mode), under the inode's lock, which a write's own clearing of setuid
     * also takes. A server that cleared it afterwards by stat and chmod put back the mode it had read:
     * a write on the source between the two kept setuid (before: 29 to 123 of 10,000 ACL writes).
     */
    @Test
    void anAccessAclWriteNeverUndoesAConcurrentWritesSetuidClearing() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("python3");
        try (Scratch scratch = new Scratch()) {
            Path racer = script(scratch, "acl-racer.py", ACL_RACER);
            Path source = scratch.dir("source");
            Path view = scratch.dir("view");
            mount("fuse", source, view);
            try {
                Exec.Result race = Exec.run(List.of("python3", racer.toString(), source.resolve("f").toString(),
                        view.resolve("f").toString(), "10000"));
                assertEquals(0, race.exit(), race.describe());
                assertTrue(race.stdout().startsWith("alone 4777\n"), "setgid cleared, setuid kept: " + race.describe());
                assertTrue(race.stdout().contains("setuid put back after 0 of 10000, 0 ACL writes failed"), race.describe());
            } finally {
                Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
            }
        }
    }

    /**
     * Run by host root: argv SOURCE-FILE VIEW-FILE OP TRIES, OP write, truncate or open (O_TRUNC). The
     * file (on disk 1000:1100, 06777) is written, truncated or opened with O_TRUNC through the view by
     * host uid 101002 (neither owner nor in the group: setuid and setgid are to go), while its owner,
     * on-disk uid 1000, does chmod 0700 on the source a random moment later (within the time OP alone
     * takes): whichever comes first, 0700 is what is left; anything else is the owner's chmod undone.
     */
    private static final String KILL_RACER = RACE_PARTS + """
            src, view, op, tries = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
            opened = []
            def request():
                if not opened:
                    opened.append(os.open(view, os.O_WRONLY))
                if op == "write":
                    os.pwrite(opened[0], b"x", 0)
                elif op == "truncate":
                    os.ftruncate(opened[0], 0)
                else:
                    os.close(os.open(view, os.O_WRONLY | os.O_TRUNC))
            widened, failed, took = race(101002, request, 1000, lambda: None, lambda _: os.chmod(src, 0o700), lambda took: 0,
                    tries, lambda: os.stat(src).st_mode & 0o7777 != 0o700)
            print("owner's chmod 0700 undone after %d of %d, %d %ss failed (one alone: %d us)" % (widened, tries, failed, op, took // 1000))
            """;

    /**
     * FUSE_HANDLE_KILLPRIV_V2 has the server clear setuid/setgid for a caller who could not keep them.
     * Done by a stat and a chmod to the mode read minus the bits, a chmod on the source between the two
     * was undone: its owner's chmod 0700 became 0777 again (before: 19 to 657 of 10,000 truncates,
     * opens with O_TRUNC and, without passthrough, writes; through /dev/fuse and io_uring alike). The
     * source's kernel now clears them under the inode's lock (a chown to -1, -1): nothing comes between.
     */
    @Test
    void clearingSetuidForAWriterNeverUndoesTheOwnersConcurrentChmod() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("python3");
        try (Scratch scratch = new Scratch()) {
            List<String> undone = new ArrayList<>();
            undone.addAll(raceKills(scratch, "passthrough", Map.of(), false));
            undone.addAll(raceKills(scratch, "no-passthrough", Map.of("IDSHIFT_FUSE_PASSTHROUGH", "0"), false));
            assertEquals(List.of(), undone, "the owner's chmod undone by a clearing of setuid");
        }
    }

    /** The same, served through FUSE over io_uring (without passthrough, so writes reach the server too). */
    @Test
    void clearingSetuidThroughTheRingNeverUndoesTheOwnersConcurrentChmod() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("python3");
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn()) {
            Map<String, String> environment = new LinkedHashMap<>(FuseTransport.URING);
            environment.put("IDSHIFT_FUSE_PASSTHROUGH", "0");
            assertEquals(List.of(), raceKills(scratch, "io_uring", environment, true),
                    "the owner's chmod undone by a clearing of setuid");
        }
    }

    /** KILL_RACER's write, truncate and open on a view mounted with {@code environment}: the races lost. */
    private static List<String> raceKills(Scratch scratch, String label, Map<String, String> environment, boolean ring)
            throws Exception {
        Path racer = script(scratch, "kill-racer.py", KILL_RACER);
        List<String> undone = new ArrayList<>();
        try (FuseView view = FuseView.mount(scratch.dir("source-" + label), scratch.dir("view-" + label), environment,
                MAP.toArray(String[]::new))) {
            if (ring) {
                assertTrue(!FuseTransport.awaitRingThreads(view.serverPid(), FuseTransport.possibleCpus()).isEmpty(),
                        "served through the ring");
            }
            for (String op : List.of("write", "truncate", "open")) {
                Exec.Result race = Exec.run(List.of("python3", racer.toString(),
                        scratch.path().resolve("source-" + label).resolve(op).toString(), view.resolve(op).toString(), op,
                        "10000"));
                String what = label + " " + op + ": " + race.describe();
                assertEquals(0, race.exit(), what);
                assertTrue(race.stdout().startsWith("alone 777\n"), "setuid and setgid cleared: " + what);
                if (!race.stdout().contains("chmod 0700 undone after 0 of 10000")) {
                    undone.add(what);
                }
            }
        }
        return undone;
    }

    /** A script in the scratch directory (0644, so a container's root reads it). */
    private static Path script(Scratch scratch, String name, String text) throws IOException {
        return Files.writeString(scratch.path().resolve(name), text);
    }

    private static void mount(String backend, Path source, Path view) {
        List<String> command = new ArrayList<>(List.of(Host.launcher().toString(), "mount", "--backend", backend));
        command.addAll(MAP);
        command.addAll(List.of(source.toString(), view.toString()));
        Exec.ok(command);
    }
}
