"""Clients of the idshift daemon, good and bad, for the attack tests (run as real unprivileged users).

  fds SOCKET COUNT NFDS          COUNT status requests on one connection, each carrying NFDS fds
  trickle SOCKET N SECONDS       N connections, each sent one byte every 3 s, never a whole line
  pipeline SOCKET CONNS REQUESTS SECONDS
                                 CONNS connections, each sent REQUESTS status lines, never reading
  latency SOCKET N REQUEST       N times: connect, send REQUEST (a JSON line), read the answer
  poll GLOB SECONDS              tries to open every file GLOB matches, over and over, and
                                 looks for mounts under GLOB's directory in its mountinfo
Each prints one line of key=value results on stdout.
"""
import glob
import os
import socket
import sys
import threading
import time

STATUS = b'{"version":1,"op":"status"}\n'


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def fds(path, count, nfds):
    sent = [os.open("/dev/null", os.O_RDONLY) for _ in range(nfds)]
    s = connect(path)
    answers = s.makefile("rb")
    ok = 0
    for _ in range(count):
        socket.send_fds(s, [STATUS], sent)
        if b'"ok":true' in answers.readline():
            ok += 1
    print("answered=%d" % ok, flush=True)


def trickle(path, n, seconds):
    conns = [connect(path) for _ in range(n)]
    print("connected=%d" % len(conns), flush=True)
    start = time.time()
    while time.time() - start < seconds:
        for s in conns:
            try:
                s.send(b" ")
            except OSError:
                pass
        time.sleep(3)
    cut = refused = still_open = 0
    for s in conns:
        s.setblocking(False)
        try:
            data = s.recv(4096)
            if b"no complete request line" in data:
                cut += 1
            elif b"retry later" in data:
                refused += 1
        except BlockingIOError:
            still_open += 1
        except OSError:
            cut += 1
    print("cut=%d refused=%d open=%d" % (cut, refused, still_open), flush=True)


def pipeline(path, conns, requests, seconds):
    ended = []

    def flood():
        s = connect(path)
        s.settimeout(seconds)
        try:
            s.sendall(STATUS * requests)
            ended.append("sent-all")
        except OSError:
            ended.append("send-ended")
        s.settimeout(seconds)
        # Read nothing until the daemon gives up on us, then see what arrived.
        time.sleep(seconds)
        got = 0
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                got += data.count(b"\n")
        except OSError:
            pass
        ended.append("answers=%d" % got)

    threads = [threading.Thread(target=flood) for _ in range(conns)]
    for t in threads:
        t.start()
    print("started=%d" % conns, flush=True)
    for t in threads:
        t.join()
    print(" ".join(ended), flush=True)


def latency(path, n, request):
    times = []
    ok = 0
    for _ in range(n):
        start = time.monotonic()
        s = connect(path)
        s.sendall(request.encode() + b"\n")
        answer = s.makefile("rb").readline()
        times.append((time.monotonic() - start) * 1000)
        s.close()
        if b'"ok":true' in answer:
            ok += 1
        else:
            sys.stderr.write(answer.decode(errors="replace"))
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print("ok=%d p50=%.1f p99=%.1f" % (ok, times[len(times) // 2], p99), flush=True)


def poll(pattern, seconds):
    opened = seen = mounted = 0
    top = os.path.dirname(os.path.dirname(pattern)) + "/"
    start = time.time()
    while time.time() - start < seconds:
        with open("/proc/self/mountinfo") as table:
            mounted += sum(1 for line in table if top in line)
        for name in glob.glob(pattern):
            seen += 1
            try:
                with open(name, "rb") as f:
                    f.read(1)
                opened += 1
            except OSError:
                pass
    print("opened=%d seen=%d mounted=%d" % (opened, seen, mounted), flush=True)


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "fds":
        fds(args[0], int(args[1]), int(args[2]))
    elif mode == "trickle":
        trickle(args[0], int(args[1]), float(args[2]))
    elif mode == "pipeline":
        pipeline(args[0], int(args[1]), int(args[2]), float(args[3]))
    elif mode == "latency":
        latency(args[0], int(args[1]), args[2])
    elif mode == "poll":
        poll(args[0], float(args[1]))
    else:
        sys.exit("unknown mode " + mode)
