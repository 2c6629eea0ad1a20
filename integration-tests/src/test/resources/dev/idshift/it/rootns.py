#!/usr/bin/python3
"""(root) rootns.py BASE UID COMMAND...: runs COMMAND as UID (uid and gid) in a user namespace that
root creates, mapping 0-65535 to BASE..: what a non-root process of a root-run container is, without
a runtime (ContainerProcessTest)."""
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000

base, uid, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
unshared_r, unshared_w = os.pipe()
mapped_r, mapped_w = os.pipe()
pid = os.fork()
if pid == 0:
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) != 0:
        os._exit(70)
    os.write(unshared_w, b"x")
    if os.read(mapped_r, 1) != b"x":
        os._exit(71)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    os.execvp(command[0], command)
os.close(unshared_w)
if os.read(unshared_r, 1) == b"x":
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as map_file:
            map_file.write(f"0 {base} 65536\n")
    os.write(mapped_w, b"x")
os.close(mapped_w)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
