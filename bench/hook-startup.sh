#!/bin/sh
# What `idshift hook` adds to a container start. Starts `true` in a user-namespaced runc container
# (0 -> 100000) over a host-root-owned busybox rootfs, alternating the variants round by round:
#   no-hook      the runtime alone (the rootfs shows as nobody: the baseline cost)
#   native-C     bench/native-hook.c: the same mount steps in C, no checks (the floor)
#   idshift-17   bin/idshift hook on the default JDK 17 (prestart + poststop, as the README advises
#                and as every other idshift variant here has it; poststop is a no-op in sh)
#   idshift-25   the same on the Temurin 25 JDK (if installed)
#   idshift-fuse bin/idshift hook on JDK 17 with dev.idshift.backend=fuse: the rootfs served by the
#                hook's own JVM, which stays on as the FUSE server (HookServing); poststop without a JVM
#   fuse-spare   the same with IDSHIFT_FUSE_IN_HOOK=0: served by a spare FUSE server the launcher starts
#                beside the hook's JVM (LauncherSpareServer); poststop in a JVM
#   fuse-fresh   the same with IDSHIFT_HOOK_JVM=1 (no launcher shortcuts): the hook's JVM starts a
#                server afresh after its own start, as before the launcher's spare
#   daemon       bin/idshift hook (prestart + poststop) with `idshift daemon` running: the stages go
#                to its hook channel (kernel backend)
#   fuse-daemon  the same with dev.idshift.backend=fuse: the daemon hands the mount to its spare
#                FUSE server (started beforehand, warm) instead of starting one
#   *-spaced     daemon and fuse-daemon again, 1.5 s between rounds (see measure's call below)
# and prints each one's median and p90, the ms it adds over no-hook and over native-C (the floor for
# doing the same mount work), and its ratio to native-C. Note: no-hook is not the floor: with its
# rootfs owned by nobody, runc does a little more work than with a shifted one. The run directories
# are on a tmpfs, as /run is on most hosts (records are fsynced). Two phases: every variant without
# the daemon first, with no daemon running, then daemon and fuse-daemon (alternated with each other)
# with it: the daemon's own background work (refilling its spare FUSE server) is not charged to
# variants that do not use it.
# Usage: bench/hook-startup.sh [ROUNDS]   (default 21; needs root, runc, busybox-static, gcc)
set -eu
rounds=${1:-21}
repo=$(cd "$(dirname "$0")/.." && pwd)
idshift=$repo/bin/idshift
jdk25=$(ls -d /usr/lib/jvm/temurin-25-jdk-* 2>/dev/null | head -1 || true)

work=$(mktemp -d /tmp/idshift-bench-XXXXXX)
chmod 755 "$work"
ids=""
daemon_pid=""
cleanup() {
    for id in $ids; do runc delete -f "$id" >/dev/null 2>&1 || true; done
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
    IDSHIFT_RUN_DIR=$work/run-jvm "$idshift" gc --older-than 0 >/dev/null 2>&1 || true
    IDSHIFT_RUN_DIR=$work/run-daemon "$idshift" gc --older-than 0 >/dev/null 2>&1 || true
    umount "$work/run-jvm" 2>/dev/null || true
    umount "$work/run-daemon" 2>/dev/null || true
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/tmp"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
for applet in sh true stat; do ln -s busybox "$work/rootfs/bin/$applet"; done
gcc -O2 -o "$work/native-hook" "$repo/bench/native-hook.c"

# bundle NAME HOOK-JSON [ANNOTATIONS-JSON]: a bundle sharing the rootfs, with the hooks object given.
bundle() {
    mkdir -p "$work/$1"
    cat > "$work/$1/config.json" <<JSON
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["/bin/true"],"env":["PATH=/bin"],"cwd":"/"},
 "root":{"path":"$work/rootfs"},"hostname":"bench",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}],
 "hooks":$2,"annotations":${3:-{\}},
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"}],
   "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
   "maskedPaths":["/proc/kcore","/proc/keys","/proc/timer_list"],"readonlyPaths":["/proc/sys","/proc/sysrq-trigger"]}}
JSON
}
# Each path its own run directory: none of these touch /run/idshift (or a daemon serving it).
mkdir -p "$work/run-jvm" "$work/run-daemon"
# Both on a tmpfs, as /run is on most hosts (not on this VM, where it is ext4) and as bench/lifecycle.sh
# has them: a record's fsync is then not a disk flush, for every variant alike.
mount -t tmpfs -o mode=0711 idshift-bench "$work/run-jvm"
mount -t tmpfs -o mode=0711 idshift-bench "$work/run-daemon"
JAVA17=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
hook_at() {  # RUN-DIR: the hook object for any stage (the stage comes from the state)
    echo "{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\"],\"env\":[\"IDSHIFT_JAVA=$JAVA17\",\"IDSHIFT_RUN_DIR=$1\"]}"
}
variants="no-hook native-C idshift-17"
bundle no-hook '{}'
bundle native-C "{\"prestart\":[{\"path\":\"$work/native-hook\",\"args\":[\"native-hook\",\"$work/rootfs\"]}]}"
bundle idshift-17 "{\"prestart\":[$(hook_at "$work/run-jvm")],\"poststop\":[$(hook_at "$work/run-jvm")]}"
variants="$variants idshift-fuse"
bundle idshift-fuse "{\"prestart\":[$(hook_at "$work/run-jvm")],\"poststop\":[$(hook_at "$work/run-jvm")]}" '{"dev.idshift.backend":"fuse"}'
variants="$variants fuse-spare"
hook_spare() {  # RUN-DIR: as hook_at, the FUSE server a spare started beside the hook's JVM
    echo "{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\"],\"env\":[\"IDSHIFT_JAVA=$JAVA17\",\"IDSHIFT_RUN_DIR=$1\",\"IDSHIFT_FUSE_IN_HOOK=0\"]}"
}
bundle fuse-spare "{\"prestart\":[$(hook_spare "$work/run-jvm")],\"poststop\":[$(hook_spare "$work/run-jvm")]}" '{"dev.idshift.backend":"fuse"}'
variants="$variants fuse-fresh"
hook_fresh() {  # RUN-DIR: as hook_at, every stage in the hook's own JVM
    echo "{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\"],\"env\":[\"IDSHIFT_JAVA=$JAVA17\",\"IDSHIFT_RUN_DIR=$1\",\"IDSHIFT_HOOK_JVM=1\"]}"
}
bundle fuse-fresh "{\"prestart\":[$(hook_fresh "$work/run-jvm")],\"poststop\":[$(hook_fresh "$work/run-jvm")]}" '{"dev.idshift.backend":"fuse"}'
with_daemon="daemon fuse-daemon"
bundle daemon "{\"prestart\":[$(hook_at "$work/run-daemon")],\"poststop\":[$(hook_at "$work/run-daemon")]}"
bundle fuse-daemon "{\"prestart\":[$(hook_at "$work/run-daemon")],\"poststop\":[$(hook_at "$work/run-daemon")]}" '{"dev.idshift.backend":"fuse"}'
if [ -n "$jdk25" ]; then
    variants="$variants idshift-25"
    hook25="{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\"],\"env\":[\"IDSHIFT_JAVA=$jdk25/bin/java\",\"IDSHIFT_RUN_DIR=$work/run-jvm\"]}"
    bundle idshift-25 "{\"prestart\":[$hook25],\"poststop\":[$hook25]}"
fi

# check VARIANTS: warm up (builds each JDK's class-data archive once) and check every hook really shifts.
check() {
for variant in $1; do
    sed 's#"args":\["/bin/true"\]#"args":["/bin/stat","-c","%u:%g","/"]#' "$work/$variant/config.json" > "$work/check.json"
    mkdir -p "$work/check-$variant" && mv "$work/check.json" "$work/check-$variant/config.json"
    id=bench-check-$$; ids="$ids $id"
    owner=$(runc run --bundle "$work/check-$variant" "$id" 2>&1)
    runc delete -f "$id" >/dev/null 2>&1 || true
    case $variant in no-hook) want=65534:65534 ;; *) want=0:0 ;; esac
    if [ "$owner" != "$want" ]; then echo "bench: $variant sees / as '$owner', expected $want" >&2; exit 1; fi
done
}

now_ns() { date +%s%N; }
# measure VARIANTS [GAP SUFFIX]: ROUNDS rounds, the variants alternated within each, GAP seconds
# between rounds; samples named VARIANT-SUFFIX when given.
measure() {
for round in $(seq 1 "$rounds"); do
    [ -n "${2:-}" ] && sleep "$2"
    for variant in $1; do
        id=bench-$$-$round-$variant${3:+-$3}; ids="$ids $id"
        start=$(now_ns)
        runc run --bundle "$work/$variant" "$id" >/dev/null 2>&1 || { echo "bench: runc run failed for $variant" >&2; exit 1; }
        end=$(now_ns)
        runc delete -f "$id" >/dev/null 2>&1 || true
        echo "$variant${3:+-$3} $(( (end - start) / 1000 ))" >> "$work/samples"
    done
done
}

# The variants without the daemon run first, with no daemon on the machine: its background work (a
# spare FUSE server started 250 ms after one is taken, ~0.5 s of CPU) must not land on them. Then the
# daemon's variants, alternated among themselves, against the same no-hook and native-C rows.
check "$variants"
measure "$variants"
IDSHIFT_RUN_DIR=$work/run-daemon "$idshift" daemon --socket "$work/run-daemon/idshift.sock" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 300); do [ -f "$work/run-daemon/hookd/daemon.pid" ] && break; sleep 0.1; done
[ -f "$work/run-daemon/hookd/daemon.pid" ] || { echo "bench: the daemon did not start: $(cat "$work/daemon.log")" >&2; exit 1; }
check "$with_daemon"
# The daemon's first FUSE start made a spare server: let it warm up, as on a host that has run one before.
sleep 3
measure "$with_daemon"
# Again with 1.5 s between rounds: the daemon keeps one spare server and starts the next 250 ms after
# one is taken (~0.5 s of CPU on these 2 cores), so back-to-back FUSE starts (above) often find it
# still starting; these find it warm, as starts that are not back to back do.
measure "$with_daemon" 1.5 spaced
variants="$variants $with_daemon daemon-spaced fuse-daemon-spaced"

echo "runc run of /bin/true, userns 0->100000, $rounds alternated rounds each ($(nproc) cores, kernel $(uname -r))"
awk -v order="$variants" -f "$repo/bench/percentiles.awk" "$work/samples" | awk '
    { name[++count] = $1; med[$1] = $2; p90[$1] = $3 }
    END {
        printf "%-12s %10s %8s %17s %18s %14s\n", "variant", "median ms", "p90 ms", "+ms vs no-hook", "+ms vs native-C", "x native-C"
        for (i = 1; i <= count; i++) {
            n = name[i]
            printf "%-12s %10.1f %8.1f %17.1f %18.1f %13.2fx\n", n, med[n], p90[n], med[n] - med["no-hook"], med[n] - med["native-C"], med[n] / med["native-C"]
        }
        printf "FUSE / kernel backend: without the daemon %.2fx (idshift-fuse / idshift-17; %.2fx with the launcher'"'"'s spare, fuse-spare; %.2fx with the server started afresh, fuse-fresh), with it %.2fx back to back (fuse-daemon / daemon), %.2fx 1.5 s apart (fuse-daemon-spaced / daemon-spaced)\n",
            med["idshift-fuse"] / med["idshift-17"], med["fuse-spare"] / med["idshift-17"], med["fuse-fresh"] / med["idshift-17"], med["fuse-daemon"] / med["daemon"], med["fuse-daemon-spaced"] / med["daemon-spaced"]
    }'
