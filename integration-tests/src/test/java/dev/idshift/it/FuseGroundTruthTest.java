package dev.idshift.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.idshift.it.support.Exec;
import dev.idshift.it.support.FuseTransport;
import dev.idshift.it.support.Host;
import dev.idshift.it.support.Scratch;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cases libfuse 2's path API got wrong (issue 13), run through the FUSE backend and through the
 * kernel backend (idmapped mount, the ground truth) with the same map: each prints a transcript, and
 * the two must be the same line for line. Host root is the view's root (map 100000:0), "alice" is
 * host uid 1000 (on disk 101000), switched to with setpriv. The FUSE view is served through /dev/fuse
 * ("fuse", the default) and over io_uring ("fuse-uring", opt-in).
 */
class FuseGroundTruthTest {
    private static final String[] MAP = {"--uidmap", "100000:0:65536"};

    /** Each line: "label: what was seen". Failures print the exit code, so they compare too. */
    private static final String SCRIPT = """
            A() { setpriv --reuid 1000 --regid 1000 --clear-groups "$@"; }
            say() { label=$1; shift; out=$("$@" 2>/dev/null); echo "$label: exit $? $out"; }
            # hard links: one inode, attributes right through every name at once
            echo one > h1; ln h1 h2; chown 1000:1000 h1; chmod 644 h1
            say nlink-after-ln stat -c '%h %u %a' h2
            say alice-reads-h2 A cat h2
            chmod 600 h1; chown 0 h1
            say h2-after-chmod-chown stat -c '%h %u %a' h2
            say alice-reads-h2-revoked A cat h2
            say alice-appends-h2-revoked A sh -c 'echo x >> h2'
            echo two > h1
            say data-through-h2 cat h2
            rm h1
            say nlink-after-rm stat -c '%h' h2
            # ACL entries enforced by the kernel
            echo secret > deny; chmod 644 deny; setfacl -m u:1000:--- deny
            say acl-deny A cat deny
            echo shared > allow; chmod 600 allow; setfacl -m u:1000:r allow
            say acl-allow A cat allow
            # default ACLs: the umask does not apply over them
            mkdir dacl; setfacl -d -m u::rwx,g::rwx,o::rx dacl
            say default-acl-file sh -c 'umask 022; touch dacl/f; stat -c %a dacl/f'
            say default-acl-dir sh -c 'umask 022; mkdir dacl/d; stat -c %a dacl/d'
            say default-acl-inherited sh -c 'getfacl -n -p dacl/d | grep -c default'
            say no-default-acl sh -c 'umask 027; touch plain; stat -c %a plain'
            # ACL entries the view cannot show (on-disk ids 70000, 70001: no host id) are kept as an idmapped
            # mount keeps them, read on disk in $SRC. chmod: the same ACL. setfacl -m/-x rewrite the whole ACL: the
            # kernel backend shows those entries as 4294967295 and setfacl refuses to write that back, the FUSE
            # view leaves them out and they are added back; compared: the unmapped entries (the rest is checked below)
            hidden() { getfacl -n -c -E "$1" | grep 7000; }
            echo k > "$SRC/keep"; chown 100000:100000 "$SRC/keep"
            setfacl -m u:70000:rw,u:100005:r,g:70001:rw,g:100006:r "$SRC/keep"
            chmod 600 keep
            say keep-chmod-600 getfacl -n -c "$SRC/keep"
            chmod 640 keep
            say keep-chmod-640 getfacl -n -c "$SRC/keep"
            setfacl -m u:7:r keep 2>/dev/null
            say keep-setfacl-m hidden "$SRC/keep"
            setfacl -x u:5 keep 2>/dev/null
            say keep-setfacl-x hidden "$SRC/keep"
            mkdir "$SRC/dkeep"; chown 100000:100000 "$SRC/dkeep"; setfacl -d -m u:70000:rwx,u:100005:rx "$SRC/dkeep"
            setfacl -d -m u:7:rx dkeep 2>/dev/null
            say dkeep-setfacl-d-m hidden "$SRC/dkeep"
            echo w > "$SRC/wipe"; chown 100000:100000 "$SRC/wipe"; setfacl -m u:70000:rw,u:100005:r "$SRC/wipe"
            say wipe-setfacl-b sh -c 'setfacl -b wipe; getfacl -n -c "$SRC/wipe"'
            # trusted.* names are listed only to a caller with CAP_SYS_ADMIN over the host, as the source lists them
            echo t > "$SRC/trusted"; chown 100000:100000 "$SRC/trusted"
            setfattr -n trusted.secret -v 1 "$SRC/trusted"; setfattr -n user.note -v 1 "$SRC/trusted"
            say trusted-root getfattr -m - trusted
            say trusted-root-without-sys-admin setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin getfattr -m - trusted
            say trusted-alice-with-sys-admin A --inh-caps=+sys_admin --ambient-caps=+sys_admin getfattr -m - trusted
            say trusted-alice A getfattr -m - trusted
            # an overlay over the view copies a file up for alice with its mounter's (root's) credentials: trusted.* go along
            chmod 666 trusted; ov="$SRC.overlay"; mkdir -p "$ov/u" "$ov/w" "$ov/m"
            mount -t overlay ov -o "lowerdir=$PWD,upperdir=$ov/u,workdir=$ov/w" "$ov/m"
            say trusted-copy-up A sh -c "echo x >> '$ov/m/trusted'"
            say trusted-copied-up getfattr --only-values -n trusted.secret "$ov/u/trusted"
            umount "$ov/m"; rm -rf "$ov"
            # an access ACL written by a caller neither in the file's group nor holding CAP_FSETID over it clears
            # setgid (whatever the group may execute, directories too); kept for one in the group or with CAP_FSETID
            sgid() { group=$1; shift; for f in "$@"; do echo s > $f; chown 1000:$group $f; chmod 2755 $f; done; }
            sgid 0 acl-o acl-n acl-r acl-c; sgid 1000 acl-g; chmod 2745 acl-n
            mkdir acl-d; chown 1000:0 acl-d; chmod 2755 acl-d
            A setfacl -m u:1001:r acl-o && say acl-sgid-outside stat -c %a acl-o
            A setfacl -m u:1001:r acl-n && say acl-sgid-outside-noexec stat -c %a acl-n
            A setfacl -m u:1001:r acl-d && say acl-sgid-outside-dir stat -c %a acl-d
            A setfacl -m u:1001:r acl-g && say acl-sgid-in-group stat -c %a acl-g
            setfacl -m u:1001:r acl-r && say acl-sgid-root stat -c %a acl-r
            A --inh-caps=+fsetid --ambient-caps=+fsetid setfacl -m u:1001:r acl-c && say acl-sgid-fsetid stat -c %a acl-c
            # ... and as root of a user namespace (a container's) mapping host uid 1000 and gid $1 to 0, no other
            # groups: CAP_FSETID there counts over the file only if its group (host 0) is mapped
            NS() { python3 -c '
            import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            up, down = os.pipe(), os.pipe()
            pid = os.fork()
            if pid == 0:
                os.setgroups([])
                if libc.unshare(0x10000000) != 0:
                    os._exit(99)
                os.write(up[1], b"u"); os.read(down[0], 1)
                os.setresgid(0, 0, 0); os.setresuid(0, 0, 0)
                os.execvp(sys.argv[2], sys.argv[2:])
            os.read(up[0], 1)
            open("/proc/%d/uid_map" % pid, "w").write("0 1000 1")
            open("/proc/%d/gid_map" % pid, "w").write("0 %s 1" % sys.argv[1])
            os.write(down[1], b"g")
            sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))' "$@"; }
            sgid 0 acl-m acl-u
            NS 0 setfacl -m u:0:r acl-m && say acl-sgid-userns-group-mapped stat -c %a acl-m
            NS 1000 setfacl -m u:0:r acl-u && say acl-sgid-userns-group-unmapped stat -c %a acl-u
            # setuid/setgid kept on create
            say create-setuid python3 -c 'import os; fd=os.open("su", os.O_CREAT|os.O_WRONLY, 0o4755); print(oct(os.fstat(fd).st_mode))'
            # open-unlinked files, by fd, no hidden files; rm -rf of their directory works
            mkdir od; echo kept > od/f
            say open-unlinked sh -c 'exec 3<>od/f; rm od/f; echo more >&3; cat /proc/self/fd/3; ls -A od | wc -l; rm -rf od; test ! -e od && echo gone'
            # rename2 flags
            echo 1 > r1; echo 2 > r2
            say rename-exchange python3 -c 'import ctypes; c=ctypes.CDLL(None, use_errno=True); r=c.renameat2(-100, b"r1", -100, b"r2", 2); print(r, ctypes.get_errno(), open("r1").read().strip(), open("r2").read().strip())'
            say rename-noreplace python3 -c 'import ctypes; c=ctypes.CDLL(None, use_errno=True); r=c.renameat2(-100, b"r1", -100, b"r2", 1); print(r, ctypes.get_errno())'
            # a relative path of PATH_MAX-1 bytes, and a name that is not UTF-8
            say long-path python3 -c '
            import os
            name = "d" * 200
            path = ""
            while 4095 - len(path) > 255:
                path = path + name + "/"
                os.mkdir(path)
            last = path + "f" * (4095 - len(path))
            assert len(last) == 4095
            fd = os.open(last, os.O_CREAT | os.O_WRONLY, 0o600); os.close(fd)
            os.chmod(last, 0o642); os.chown(last, 5, 6); os.truncate(last, 3)
            st = os.lstat(last); os.unlink(last)
            print(oct(st.st_mode), st.st_uid, st.st_gid, st.st_size)'
            say byte-name python3 -c 'import os; open(b"n\\xff", "w").close(); print(os.listdir(b".").count(b"n\\xff"))'
            """;

    @Test
    void theFuseBackendAgreesWithTheKernelBackend() throws Exception {
        Host.requireRoot();
        Host.requireExecutable("setfacl");
        Host.requireExecutable("python3");
        Host.requireExecutable("getfattr");
        try (Scratch scratch = new Scratch(); FuseTransport ring = FuseTransport.ringOn()) {
            Map<String, String> seen = new LinkedHashMap<>();
            for (String variant : List.of("kernel", "fuse", "fuse-uring")) {
                String backend = variant.startsWith("fuse") ? "fuse" : variant;
                Path source = scratch.dir(variant + "-source");
                Exec.ok(List.of("chown", "100000:100000", source.toString()));
                Path view = scratch.dir(variant + "-view");
                Exec.Result mounted = Exec.run(List.of(Host.launcher().toString(), "mount", "--backend", backend, MAP[0], MAP[1],
                        source.toString(), view.toString()), null,
                        variant.equals("fuse-uring") ? FuseTransport.URING : Map.of(), 60);
                assertEquals(0, mounted.exit(), variant + ": " + mounted.describe());
                try {
                    Exec.Result run = Exec.run(List.of("sh", "-c", "cd '" + view + "' && export SRC='" + source + "' && " + SCRIPT));
                    seen.put(variant, run.stdout());
                } finally {
                    Exec.run(List.of(Host.launcher().toString(), "umount", view.toString()));
                }
            }
            assertEquals(seen.get("kernel"), seen.get("fuse"), "through /dev/fuse");
            assertEquals(seen.get("kernel"), seen.get("fuse-uring"), "over io_uring");
            String fuse = seen.get("fuse");
            assertTrue(fuse.contains("alice-reads-h2-revoked: exit 1"), fuse);
            assertTrue(fuse.contains("acl-deny: exit 1"), fuse);
            assertTrue(fuse.contains("acl-allow: exit 0 shared"), fuse);
            assertTrue(fuse.contains("default-acl-file: exit 0 664"), fuse);
            assertTrue(fuse.contains("create-setuid: exit 0 0o104755"), fuse);
            for (String kept : List.of("in-group", "root", "fsetid", "userns-group-mapped")) {
                assertTrue(fuse.contains("acl-sgid-" + kept + ": exit 0 2755\n"), kept + ": " + fuse);
            }
            for (String cleared : List.of("outside", "outside-dir", "userns-group-unmapped")) {
                assertTrue(fuse.contains("acl-sgid-" + cleared + ": exit 0 755\n"), cleared + ": " + fuse);
            }
            assertTrue(fuse.contains("acl-sgid-outside-noexec: exit 0 745\n"), fuse);
            assertTrue(fuse.contains("open-unlinked: exit 0 more\n0\ngone"), fuse);
            assertTrue(fuse.contains("rename-exchange: exit 0 0 0 2 1"), fuse);
            assertTrue(fuse.contains("long-path: exit 0 0o100642 5 6 3"), fuse);
            assertTrue(fuse.contains("keep-chmod-640: exit 0 user::rw-\nuser:70000:rw-\t#effective:r--\n"), fuse);
            assertTrue(fuse.contains("keep-setfacl-x: exit 0 user:70000:rw-\ngroup:70001:rw-\n"), fuse);
            assertTrue(fuse.contains("trusted-root-without-sys-admin: exit 0 # file: trusted\nuser.note\n"), fuse);
            assertTrue(fuse.contains("trusted-copied-up: exit 0 1\n"), fuse);
            assertTrue(fuse.contains("trusted-alice-with-sys-admin: exit 0 # file: trusted\ntrusted.secret\nuser.note\n"), fuse);
            for (String variant : List.of("fuse", "fuse-uring")) {
                // what setfacl did through the view, beside the entries it could not see
                Path source = scratch.path().resolve(variant + "-source");
                assertEquals("""
                        user::rw-
                        user:70000:rw-
                        user:100007:r--
                        group::r--
                        group:70001:rw-
                        group:100006:r--
                        mask::r--
                        other::---
                        """, Exec.ok(List.of("getfacl", "-n", "-c", "-E", source.resolve("keep").toString())).stdout().strip() + "\n",
                        variant);
                String dkeep = Exec.ok(List.of("getfacl", "-n", "-c", "-E", "-d", source.resolve("dkeep").toString())).stdout();
                assertTrue(dkeep.contains("user:70000:rwx\nuser:100005:r-x\nuser:100007:r-x\n"), variant + ": " + dkeep);
            }
        }
    }
}
