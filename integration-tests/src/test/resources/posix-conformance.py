# A POSIX conformance suite in the spirit of pjdfstest: each syscall's success and error cases,
# one line per case ("case: OK details" or "case: ERRNO"), run in the current directory as the
# view's root, with "alice" (uid/gid 1000) for the permission cases. Run through two views of the
# same map (the kernel backend is the ground truth), the transcripts must be the same.
import errno, os, stat, sys, time

ALICE = 1000
results = []


def say(case, fn):
    try:
        value = fn()
        line = "%s: OK%s" % (case, "" if value is None else " " + str(value))
    except OSError as e:
        line = "%s: %s" % (case, errno.errorcode.get(e.errno, str(e.errno)))
    print(line)
    sys.stdout.flush()


def as_alice(fn):
    """fn run in a child with alice's ids; its result (or errno) comes back as a string."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.setgroups([])
            os.setresgid(ALICE, ALICE, ALICE)
            os.setresuid(ALICE, ALICE, ALICE)
            value = fn()
            out = "OK" + ("" if value is None else " " + str(value))
        except OSError as e:
            out = "E" + errno.errorcode.get(e.errno, str(e.errno))
        os.write(write, out.encode())
        os._exit(0)
    os.close(write)
    out = os.read(read, 4096).decode()
    os.close(read)
    os.waitpid(pid, 0)
    if out.startswith("E"):
        raise OSError(getattr(errno, out[1:], 0), out[1:])
    return out[3:] if out.startswith("OK ") else None


def mode(path):
    return oct(os.lstat(path).st_mode)


def owner(path):
    st = os.lstat(path)
    return "%d:%d" % (st.st_uid, st.st_gid)


def touch(path, perm=0o644):
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, perm))


os.umask(0o022)
# Directories alice can and cannot write in.
os.mkdir("pub"); os.chmod("pub", 0o777)
os.mkdir("priv"); os.chmod("priv", 0o755)
os.mkdir("sticky"); os.chmod("sticky", 0o1777)

# ---- mkdir ----
say("mkdir", lambda: (os.mkdir("d1", 0o755), mode("d1"), owner("d1"))[1:])
say("mkdir umask", lambda: (os.mkdir("d2", 0o777), mode("d2"))[1])
say("mkdir EEXIST", lambda: os.mkdir("d1"))
say("mkdir ENOENT", lambda: os.mkdir("nope/d"))
touch("file")
say("mkdir ENOTDIR", lambda: os.mkdir("file/d"))
say("mkdir ENAMETOOLONG", lambda: os.mkdir("x" * 256))
say("mkdir 255", lambda: (os.mkdir("x" * 255), os.rmdir("x" * 255))[1])
say("mkdir EACCES", lambda: as_alice(lambda: os.mkdir("priv/a")))
say("mkdir by alice", lambda: (as_alice(lambda: os.mkdir("pub/a", 0o700)), owner("pub/a"), mode("pub/a"))[1:])
os.mkdir("sgid")
os.chown("sgid", 0, 5000)
os.chmod("sgid", 0o2777)
say("mkdir in setgid", lambda: (as_alice(lambda: os.mkdir("sgid/a", 0o755)), owner("sgid/a"), mode("sgid/a"))[1:])
say("create in setgid", lambda: (as_alice(lambda: touch("sgid/f")), owner("sgid/f"), mode("sgid/f"))[1:])
say("nlink of dir", lambda: (os.mkdir("d1/s"), os.lstat("d1").st_nlink)[1])

# ---- chmod ----
touch("cm", 0o644)
say("chmod", lambda: (os.chmod("cm", 0o4751), mode("cm"))[1])
say("chmod ENOENT", lambda: os.chmod("nope", 0o644))
say("chmod EPERM", lambda: as_alice(lambda: os.chmod("cm", 0o777)))
touch("pub/cma", 0o644)
os.chown("pub/cma", ALICE, ALICE)
say("chmod by owner", lambda: (as_alice(lambda: os.chmod("pub/cma", 0o600)), mode("pub/cma"))[1])
say("chmod g+s not in group", lambda: (os.chown("pub/cma", ALICE, 5000), as_alice(lambda: os.chmod("pub/cma", 0o2755)), mode("pub/cma"))[2])
os.symlink("cm", "cmlink")
say("chmod through symlink", lambda: (os.chmod("cmlink", 0o640), mode("cm"), mode("cmlink"))[1:])
say("ctime changes on chmod", lambda: (lambda before: (os.chmod("cm", 0o600), os.lstat("cm").st_ctime_ns >= before)[1])(os.lstat("cm").st_ctime_ns))

# ---- chown ----
touch("co", 0o4755)
say("chown", lambda: (os.chown("co", 1234, 4321), owner("co"))[1])
say("chown clears setuid", lambda: mode("co"))
say("chown -1 -1", lambda: (os.chown("co", -1, -1), owner("co"))[1])
say("chown EPERM", lambda: as_alice(lambda: os.chown("co", ALICE, ALICE)))
touch("pub/coa")
os.chown("pub/coa", ALICE, ALICE)
say("chgrp to other group EPERM", lambda: as_alice(lambda: os.chown("pub/coa", -1, 5000)))
say("chown own file to self", lambda: as_alice(lambda: os.chown("pub/coa", ALICE, ALICE)))
say("chown unmapped", lambda: os.chown("co", 70000, -1))
os.symlink("co", "colink")
say("lchown", lambda: (os.lchown("colink", 7, 8), owner("colink"), owner("co"))[1:])
say("chown ENOENT", lambda: os.chown("nope", 1, 1))


def ctime_changes(change, path, follow=True):
    """Whether change() gives path a new ctime (the coarse clock ticks within the sleep)."""
    before = (os.stat if follow else os.lstat)(path).st_ctime_ns
    time.sleep(0.05)
    change()
    return (os.stat if follow else os.lstat)(path).st_ctime_ns > before


def fchown_keep(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fchown(fd, -1, -1)
    finally:
        os.close(fd)


# chown(-1, -1) changes nothing but ctime (pjdfstest chown/00.t's "TODO Linux" cases: ext4 sets it).
say("chown -1 -1 sets ctime", lambda: ctime_changes(lambda: os.chown("co", -1, -1), "co"))
say("chown -1 -1 of a dir sets ctime", lambda: ctime_changes(lambda: os.chown("d1", -1, -1), "d1"))
say("lchown -1 -1 of a symlink sets ctime", lambda: ctime_changes(lambda: os.lchown("colink", -1, -1), "colink", False))
say("fchown -1 -1 sets ctime", lambda: ctime_changes(lambda: fchown_keep("co"), "co"))

# ---- link ----
touch("l1")
say("link", lambda: (os.link("l1", "l2"), os.lstat("l1").st_nlink, os.lstat("l2").st_ino == os.lstat("l1").st_ino)[1:])
say("link EEXIST", lambda: os.link("l1", "l2"))
say("link ENOENT", lambda: os.link("nope", "l3"))
say("link directory EPERM", lambda: os.link("d1", "d1link"))
say("unlink a link", lambda: (os.unlink("l2"), os.lstat("l1").st_nlink)[1])
say("link by alice to root 600 file", lambda: (os.chmod("l1", 0o600), as_alice(lambda: os.link("l1", "pub/l1")))[1])

# ---- mkfifo, mknod ----
say("mkfifo", lambda: (os.mkfifo("fifo", 0o644), mode("fifo"), owner("fifo"))[1:])
say("mkfifo EEXIST", lambda: os.mkfifo("fifo"))
say("mknod fifo", lambda: (os.mknod("nfifo", 0o600 | stat.S_IFIFO), mode("nfifo"))[1])
say("mknod char", lambda: (os.mknod("null", 0o666 | stat.S_IFCHR, os.makedev(1, 3)), mode("null"), os.lstat("null").st_rdev == os.makedev(1, 3))[1:])
say("mknod char EPERM", lambda: as_alice(lambda: os.mknod("pub/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))))
say("mknod socket", lambda: (os.mknod("sock", 0o600 | stat.S_IFSOCK), mode("sock"))[1])

# ---- open ----
say("open O_CREAT", lambda: (touch("o1", 0o640), mode("o1"), owner("o1"))[1:])
say("open O_CREAT setgid", lambda: (touch("o2", 0o2755), mode("o2"))[1])
say("open O_EXCL EEXIST", lambda: os.open("o1", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
say("open O_DIRECTORY ENOTDIR", lambda: os.open("o1", os.O_RDONLY | os.O_DIRECTORY))
say("open dir O_WRONLY EISDIR", lambda: os.open("d1", os.O_WRONLY))
say("open O_NOFOLLOW ELOOP", lambda: os.open("cmlink", os.O_RDONLY | os.O_NOFOLLOW))
say("open ENOENT", lambda: os.open("nope", os.O_RDONLY))
say("open EACCES", lambda: as_alice(lambda: os.open("o1", os.O_RDONLY)))
say("open O_CREAT EACCES", lambda: as_alice(lambda: os.open("priv/x", os.O_CREAT | os.O_WRONLY, 0o644)))
with open("o3", "w") as f:
    f.write("0123456789")
say("open O_TRUNC", lambda: (os.close(os.open("o3", os.O_WRONLY | os.O_TRUNC)), os.lstat("o3").st_size)[1])
say("open O_APPEND", lambda: (lambda fd: (os.write(fd, b"ab"), os.write(fd, b"cd"), os.close(fd), open("o3").read())[3])(os.open("o3", os.O_WRONLY | os.O_APPEND)))
say("open ENAMETOOLONG", lambda: os.open("y" * 256, os.O_CREAT | os.O_WRONLY))

# ---- rename ----
touch("r1"); touch("r2")
say("rename file over file", lambda: (os.rename("r1", "r2"), os.path.exists("r1"))[1])
os.mkdir("rd1"); os.mkdir("rd2"); os.mkdir("rd3"); touch("rd3/f")
say("rename dir over empty dir", lambda: (os.rename("rd1", "rd2"), os.path.exists("rd1"))[1])
say("rename dir over non-empty ENOTEMPTY", lambda: os.rename("rd2", "rd3"))
say("rename file over dir EISDIR", lambda: os.rename("r2", "rd2"))
say("rename dir over file ENOTDIR", lambda: os.rename("rd2", "r2"))
say("rename into itself EINVAL", lambda: os.rename("rd3", "rd3/sub"))
say("rename ENOENT", lambda: os.rename("nope", "x"))
touch("sticky/rootfile")
say("rename in sticky EPERM", lambda: as_alice(lambda: os.rename("sticky/rootfile", "sticky/mine")))
say("rename keeps inode", lambda: (lambda ino: (os.rename("r2", "r4"), os.lstat("r4").st_ino == ino)[1])(os.lstat("r2").st_ino))

# ---- rmdir ----
say("rmdir", lambda: os.rmdir("rd2"))
say("rmdir ENOTEMPTY", lambda: os.rmdir("rd3"))
say("rmdir ENOTDIR", lambda: os.rmdir("r4"))
say("rmdir ENOENT", lambda: os.rmdir("nope"))
say("rmdir dot EINVAL", lambda: os.rmdir("rd3/."))

# ---- symlink ----
say("symlink", lambda: (os.symlink("target/of/link", "sl"), os.readlink("sl"), mode("sl"), os.lstat("sl").st_size)[1:])
say("symlink EEXIST", lambda: os.symlink("x", "sl"))
say("symlink long target", lambda: (os.symlink("t" * 4095, "sl2"), len(os.readlink("sl2")))[1])
say("symlink ENAMETOOLONG target", lambda: os.symlink("t" * 4096, "sl3"))
say("symlink EACCES", lambda: as_alice(lambda: os.symlink("x", "priv/sl")))

# ---- truncate ----
with open("t1", "w") as f:
    f.write("hello")
say("truncate shrink", lambda: (os.truncate("t1", 2), open("t1").read())[1])
say("truncate grow", lambda: (os.truncate("t1", 4096), os.lstat("t1").st_size)[1])
say("truncate EISDIR", lambda: os.truncate("d1", 0))
say("truncate EACCES", lambda: as_alice(lambda: os.truncate("t1", 0)))
say("truncate ENOENT", lambda: os.truncate("nope", 0))
say("ftruncate read-only fd", lambda: (lambda fd: os.ftruncate(fd, 0))(os.open("t1", os.O_RDONLY)))
os.chmod("t1", 0o4755)
say("truncate clears setuid", lambda: (os.chown("t1", ALICE, ALICE), os.chmod("t1", 0o4777), as_alice(lambda: os.truncate("t1", 1)), mode("t1"))[3])
say("write clears setuid", lambda: (os.chmod("t1", 0o4777), as_alice(lambda: (lambda fd: (os.write(fd, b"x"), os.close(fd)))(os.open("t1", os.O_WRONLY))), mode("t1"))[2])

# ---- unlink ----
touch("u1")
say("unlink", lambda: (os.unlink("u1"), os.path.exists("u1"))[1])
say("unlink ENOENT", lambda: os.unlink("u1"))
say("unlink dir EISDIR", lambda: os.unlink("d1"))
say("unlink in sticky EPERM", lambda: as_alice(lambda: os.unlink("sticky/rootfile")))
say("unlink EACCES", lambda: as_alice(lambda: os.unlink("priv/../file")))
say("unlink open file", lambda: (lambda fd: (os.unlink("o3"), os.write(fd, b"x"), os.fstat(fd).st_nlink, os.close(fd))[2])(os.open("o3", os.O_RDWR)))

# ---- utimensat ----
touch("ut")
say("utime both", lambda: (os.utime("ut", ns=(1000000001, 2000000002)), os.lstat("ut").st_atime_ns, os.lstat("ut").st_mtime_ns)[1:])
say("utime omit mtime", lambda: (os.utime("ut", ns=(3000000003, 2000000002)), os.lstat("ut").st_mtime_ns)[1])
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]
def utimensat(path, atime, mtime, flags=0):
    times = (Timespec * 2)(atime, mtime)
    if libc.utimensat(-100, path.encode(), times, flags) != 0:
        raise OSError(ctypes.get_errno(), path)
UTIME_OMIT = (1 << 30) - 2
UTIME_NOW = (1 << 30) - 1
say("utimensat UTIME_OMIT atime", lambda: (utimensat("ut", Timespec(0, UTIME_OMIT), Timespec(5, 0)), os.lstat("ut").st_atime_ns, os.lstat("ut").st_mtime_ns)[1:])
say("utimensat UTIME_OMIT mtime", lambda: (utimensat("ut", Timespec(7, 0), Timespec(0, UTIME_OMIT)), os.lstat("ut").st_atime_ns, os.lstat("ut").st_mtime_ns)[1:])
say("utimensat explicit EPERM", lambda: as_alice(lambda: utimensat("ut", Timespec(1, 0), Timespec(1, 0))))
say("utimensat NOW EACCES", lambda: as_alice(lambda: utimensat("ut", Timespec(0, UTIME_NOW), Timespec(0, UTIME_NOW))))
os.chmod("ut", 0o666)
say("utimensat NOW writable", lambda: as_alice(lambda: utimensat("ut", Timespec(0, UTIME_NOW), Timespec(0, UTIME_NOW))))
say("utimensat symlink nofollow", lambda: (utimensat("sl", Timespec(9, 0), Timespec(9, 0), 0x100), os.lstat("sl").st_mtime_ns)[1])

# ---- long paths ----
def deep(total):
    path = ""
    while total - len(path) > 255:
        path += "p" * 200 + "/"
        if not os.path.isdir(path):
            os.mkdir(path)
    return path + "q" * (total - len(path))
say("path PATH_MAX-1", lambda: (touch(deep(4095)), os.chmod(deep(4095), 0o600), os.chown(deep(4095), 3, 4), mode(deep(4095)), owner(deep(4095)), os.unlink(deep(4095)))[3:5])
say("path PATH_MAX ENAMETOOLONG", lambda: touch(deep(4096)))
say("mkdir at PATH_MAX-1", lambda: (os.mkdir(deep(4095)), os.rmdir(deep(4095)))[1])

# ---- killpriv: what a write, truncate or chown leaves of setuid, setgid and file capabilities ----
# (FUSE_HANDLE_KILLPRIV_V2: the FUSE server clears them where the kernel asks, as the source would
# for an unprivileged caller; a privileged writer keeps them; capabilities go on any write.)
# A v2 capability (cap_net_bind_service permitted), as setcap writes it.
CAPS = b"\x00\x00\x00\x02" + b"\x00\x04\x00\x00" + b"\x00" * 12


def caps(path):
    try:
        os.getxattr(path, "security.capability", follow_symlinks=False)
        return "caps"
    except OSError as e:
        if e.errno == errno.ENODATA:
            return "nocaps"
        raise


def privileged(name, perm, group=ALICE, with_caps=False):
    """A fresh file of alice's, with group and mode (and capabilities) as given; its path."""
    path = "kp-" + name
    with open(path, "wb") as f:
        f.write(b"data")
    os.chown(path, ALICE, group)
    os.chmod(path, perm)
    if with_caps:
        os.setxattr(path, "security.capability", CAPS, follow_symlinks=False)
    return path


def write_one(path):
    fd = os.open(path, os.O_WRONLY)
    os.write(fd, b"x")
    os.close(fd)


def open_trunc(path):
    os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))


def create_trunc(path):
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))


def after(path):
    return "%s %s %s" % (mode(path), owner(path), caps(path))


KILLERS = [
    ("write", write_one),
    ("truncate", lambda p: os.truncate(p, 1)),
    ("open O_TRUNC", open_trunc),
    ("create O_TRUNC", create_trunc),
    ("chown", lambda p: os.chown(p, -1, ALICE)),
    ("chown -1 -1", lambda p: os.chown(p, -1, -1)),
]
for perm in (0o4755, 0o2755, 0o6755, 0o2745, 0o6711):
    for label, kill in KILLERS:
        name = "%o-%s" % (perm, label.replace(" ", "-"))
        say("alice %s %o" % (label, perm),
            lambda: (lambda p: (as_alice(lambda: kill(p)), after(p))[1])(privileged("a" + name, perm)))
        say("root %s %o" % (label, perm),
            lambda: (lambda p: (kill(p), after(p))[1])(privileged("r" + name, perm)))
for label, kill in KILLERS:
    name = "caps-%s" % label.replace(" ", "-")
    say("alice %s capabilities" % label,
        lambda: (lambda p: (as_alice(lambda: kill(p)), after(p))[1])(privileged("a" + name, 0o755, with_caps=True)))
    say("root %s capabilities" % label,
        lambda: (lambda p: (kill(p), after(p))[1])(privileged("r" + name, 0o755, with_caps=True)))
say("read keeps capabilities", lambda: (lambda p: (open(p).read(), after(p))[1])(privileged("read-caps", 0o4755, with_caps=True)))
# several writes from one open: the first clears, and a setuid set again in between goes again
say("alice writes after chmod u+s",
    lambda: (lambda p: (as_alice(lambda: (lambda fd: (os.write(fd, b"1"), os.chmod(p, 0o4755), os.write(fd, b"2"),
                                                      os.close(fd)))(os.open(p, os.O_WRONLY))), after(p))[1])(
        privileged("again", 0o4755)))
