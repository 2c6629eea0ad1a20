#!/usr/bin/python3
"""Clients of the idshift daemon that behave as attackers do (DaemonIdentityTest).

ask SOCKET REQUEST...        one connection; sends each request, prints each reply line.
handoff SOCKET DIR REQUEST...  connects, asks for status (so the daemon has surely taken the
                             connection), forks, and the connecting process exits: only the child
                             holds the socket. The child writes the dead parent's pid to
                             DIR/pid, then for request i waits for the file DIR/go<i>, sends it and
                             writes the reply line to DIR/reply<i>.
place PID COMMAND...         (root) starts COMMAND as process PID by setting ns_last_pid and
                             forking, retrying while another process takes the number; prints
                             the pid ("none" if it could not), then waits for COMMAND.
"""
import os
import socket
import sys
import time


def reply(sock):
    line = b""
    while not line.endswith(b"\n"):
        chunk = sock.recv(65536)  # any fd the daemon passes is dropped: no ancillary buffer
        if not chunk:
            break
        line += chunk
    return line.decode().rstrip("\n")


def ask(path, requests):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    for request in requests:
        sock.sendall(request.encode() + b"\n")
        print(reply(sock), flush=True)


def handoff(path, directory, requests):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    sock.sendall(b'{"version":1,"op":"status"}\n')
    if '"ok":true' not in reply(sock):
        sys.exit("status was refused while the connecting process lived")
    parent = os.getpid()
    if os.fork() != 0:
        os._exit(0)  # the process the daemon saw connect is gone
    while os.getppid() == parent:
        time.sleep(0.01)
    with open(os.path.join(directory, "pid.tmp"), "w") as out:
        out.write(str(parent))
    os.rename(os.path.join(directory, "pid.tmp"), os.path.join(directory, "pid"))
    deadline = time.time() + 60
    for index, request in enumerate(requests, 1):
        while not os.path.exists(os.path.join(directory, "go%d" % index)):
            if time.time() > deadline:
                os._exit(2)
            time.sleep(0.01)
        sock.sendall(request.encode() + b"\n")
        answer = reply(sock)
        with open(os.path.join(directory, "reply%d.tmp" % index), "w") as out:
            out.write(answer)
        os.rename(os.path.join(directory, "reply%d.tmp" % index), os.path.join(directory, "reply%d" % index))
    os._exit(0)


def place(pid, command):
    for _ in range(500):
        with open("/proc/sys/kernel/ns_last_pid", "w") as last:
            last.write(str(pid - 1))
        child = os.fork()
        if child == 0:
            if os.getpid() != pid:
                os._exit(0)
            os.execvp(command[0], command)
        if child == pid:
            print(pid, flush=True)
            os.waitpid(child, 0)
            return
        os.waitpid(child, 0)
    print("none", flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "ask":
        ask(sys.argv[2], sys.argv[3:])
    elif mode == "handoff":
        handoff(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif mode == "place":
        place(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit("unknown mode " + mode)
