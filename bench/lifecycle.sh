#!/bin/sh
# What idshift costs a whole container lifecycle, side by side in one run. Each variant starts
# `true` in a user-namespaced container (0 -> 100000) and removes it; variants alternate round by
# round, and each one's median is printed with what it adds over its runtime's no-hook baseline:
#   runc / crun  no-hook        the runtime alone (rootfs owned by host root, seen as nobody)
#                C-hook         bench/native-hook.c at prestart: the mount work in C (the floor)
#                jvm            idshift hook at createRuntime + poststop, no daemon: a JVM at createRuntime,
#                               none at poststop (a no-op, decided by bin/idshift)
#                daemon         the same, with `idshift daemon` running: both stages through its hook channel
#   podman       no-hook        --rootfs of a copy already owned by 100000, no hooks
#                true-hooks     the same copy, annotated dev.idshift.enable=true, with three trivial hooks.d
#                               hooks at idshift's stages (precreate `cat`s the config back, poststart and
#                               poststop exit 0): what podman itself charges for hooks there (the floor)
#                rootfs-jvm     --rootfs of the host-root-owned tree, annotated dev.idshift.enable=true:
#                               precreate + poststart + poststop, no daemon
#                rootfs-daemon  the same with the daemon
#                plain-jvm      annotation-less --rootfs (the chowned copy) with idshift's hooks.d installed
#                plain-daemon   the same with the daemon
# crun runs inside `unshare -m` with a pure cgroup2 tree (this VM's hybrid layout), in every crun
# variant alike. podman: vfs storage, cgroupfs, `run --rm`, in its own storage root under the work dir.
# Usage: [KEEP=1] [VARIANTS="runc-no-hook runc-daemon ..."] bench/lifecycle.sh [ROUNDS]   (default 11; root,
# runc, crun, podman, busybox-static, gcc; KEEP=1 keeps the work directory, with the daemon's log, for a
# look afterwards; VARIANTS runs only those, by the names below: keep each runtime's no-hook for its column)
set -eu
rounds=${1:-11}
repo=$(cd "$(dirname "$0")/.." && pwd)
idshift=$repo/bin/idshift

work=$(mktemp -d /tmp/idshift-lifecycle-XXXXXX)
chmod 755 "$work"
ids=""
daemon_pid=""
cleanup() {
    for id in $ids; do
        runc delete -f "$id" >/dev/null 2>&1 || true
    done
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; fi
    podman_cmd rm --all --force >/dev/null 2>&1 || true
    IDSHIFT_RUN_DIR=$work/run/jvm "$idshift" gc --older-than 0 >/dev/null 2>&1 || true
    IDSHIFT_RUN_DIR=$work/run/daemon "$idshift" gc --older-than 0 >/dev/null 2>&1 || true
    umount -R "$work/podman/root/overlay" 2>/dev/null || true
    umount "$work/run" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/tmp" "$work/rootfs/etc" "$work/rootfs/run" \
    "$work/rootfs/sys"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
for applet in sh true stat; do ln -s busybox "$work/rootfs/bin/$applet"; done
cp -a "$work/rootfs" "$work/rootfs-100000"
chown -R 100000:100000 "$work/rootfs-100000"
gcc -O2 -o "$work/native-hook" "$repo/bench/native-hook.c"
# The run directories on a tmpfs, as /run is on most hosts (not on this VM): a record's fsync is then
# not a disk flush.
mkdir -p "$work/run"
mount -t tmpfs -o mode=0711 idshift-bench "$work/run"
mkdir -p "$work/run/jvm" "$work/run/daemon"

# The daemon, on its own socket and run directory (its hook channel is RUN/hookd).
IDSHIFT_RUN_DIR=$work/run/daemon "$idshift" daemon --socket "$work/run/daemon/idshift.sock" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do [ -p "$work/run/daemon/hookd/requests" ] && [ -f "$work/run/daemon/hookd/daemon.pid" ] && break; sleep 0.1; done
[ -f "$work/run/daemon/hookd/daemon.pid" ] || { echo "bench: the daemon did not start: $(cat "$work/daemon.log")" >&2; exit 1; }

# bundle NAME RUNDIR HOOKS-JSON: a runc/crun bundle on the host-root-owned rootfs.
bundle() {
    mkdir -p "$work/$1"
    cat > "$work/$1/config.json" <<JSON
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["/bin/true"],"env":["PATH=/bin"],"cwd":"/"},
 "root":{"path":"$work/rootfs"},"hostname":"bench",
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}],
 "hooks":$3,
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"user"}],
   "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
   "maskedPaths":["/proc/kcore","/proc/keys","/proc/timer_list"],"readonlyPaths":["/proc/sys","/proc/sysrq-trigger"]}}
JSON
}
idshift_hooks() {  # RUNDIR
    env="\"env\":[\"IDSHIFT_RUN_DIR=$1\"]"
    echo "{\"createRuntime\":[{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\",\"createRuntime\"],$env}],
           \"poststop\":[{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\",\"poststop\"],$env}]}"
}
bundle no-hook - '{}'
bundle C-hook - "{\"prestart\":[{\"path\":\"$work/native-hook\",\"args\":[\"native-hook\",\"$work/rootfs\"]}]}"
bundle jvm "$work/run/jvm" "$(idshift_hooks "$work/run/jvm")"
bundle daemon "$work/run/daemon" "$(idshift_hooks "$work/run/daemon")"

runc_run() {  # BUNDLE ID
    runc run --bundle "$work/$1" "$2" >/dev/null 2>&1 && runc delete -f "$2" >/dev/null 2>&1
}
crun_run() {  # BUNDLE ID
    unshare -m --propagation private sh -c 'umount -R /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup &&
        crun --cgroup-manager=disabled run --bundle "$1" "$2" && crun --cgroup-manager=disabled delete -f "$2"' \
        crun-bench "$work/$1" "$2" >/dev/null 2>&1
}

for hooks in jvm daemon; do
    IDSHIFT_RUN_DIR=$work/run/$hooks "$idshift" install podman --hooks-dir "$work/hooks-$hooks" --env "IDSHIFT_RUN_DIR=$work/run/$hooks" >/dev/null
done
mkdir -p "$work/hooks-none" "$work/hooks-true"
# The floor: trivial hooks at the stages, and on the annotation, idshift's hooks.d entries use.
printf '#!/bin/sh\nexec cat\n' > "$work/true-precreate"
printf '#!/bin/sh\nexit 0\n' > "$work/true-hook"
chmod 755 "$work/true-precreate" "$work/true-hook"
for stage in precreate poststart poststop; do
    hook=$work/true-hook; [ "$stage" = precreate ] && hook=$work/true-precreate
    printf "%s\n" "{\"version\":\"1.0.0\",\"hook\":{\"path\":\"$hook\"},\"when\":{\"annotations\":{\"^dev\\\\.idshift\\\\.enable\$\":\"^true\$\"}},\"stages\":[\"$stage\"]}" \
        > "$work/hooks-true/true-$stage.json"
done
podman_cmd() {
    podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver vfs --cgroup-manager cgroupfs --runtime runc "$@"
}
podman_run() {  # HOOKS(none|true|jvm|daemon) ANNOTATED(yes|no|copy: annotated, on the chowned copy)
    case $2 in
        yes) set -- "$1" --annotation dev.idshift.enable=true --rootfs "$work/rootfs" ;;
        copy) set -- "$1" --annotation dev.idshift.enable=true --rootfs "$work/rootfs-100000" ;;
        *) set -- "$1" --rootfs "$work/rootfs-100000" ;;
    esac
    hooks=$1; shift
    podman_cmd --hooks-dir "$work/hooks-$hooks" run --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 \
        --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --net none "$@" /bin/true >/dev/null 2>&1
}

run_variant() {  # VARIANT ID
    case $1 in
        runc-no-hook) runc_run no-hook "$2" ;;
        runc-C-hook) runc_run C-hook "$2" ;;
        runc-jvm) runc_run jvm "$2" ;;
        runc-daemon) runc_run daemon "$2" ;;
        crun-no-hook) crun_run no-hook "$2" ;;
        crun-C-hook) crun_run C-hook "$2" ;;
        crun-jvm) crun_run jvm "$2" ;;
        crun-daemon) crun_run daemon "$2" ;;
        podman-no-hook) podman_run none no ;;
        podman-true-hooks) podman_run true copy ;;
        podman-rootfs-jvm) podman_run jvm yes ;;
        podman-rootfs-daemon) podman_run daemon yes ;;
        podman-plain-jvm) podman_run jvm no ;;
        podman-plain-daemon) podman_run daemon no ;;
        *) echo "bench: no variant named $1" >&2; return 1 ;;
    esac
}
variants=${VARIANTS:-"runc-no-hook runc-C-hook runc-jvm runc-daemon crun-no-hook crun-C-hook crun-jvm crun-daemon
          podman-no-hook podman-true-hooks podman-rootfs-jvm podman-rootfs-daemon podman-plain-jvm podman-plain-daemon"}

# Warm up every variant twice (class-data archives, podman's storage, the daemon's JIT) and check
# that each really runs.
for pass in 1 2; do
    for variant in $variants; do
        id=lc-warm-$$-$pass-$variant; ids="$ids $id"
        run_variant "$variant" "$id" || { echo "bench: $variant failed" >&2; exit 1; }
    done
done

now_ns() { date +%s%N; }

# The launcher alone, per stage, alternated the same way: a no-op poststop (nothing recorded: no
# JVM), a poststop with work through the daemon (a staging annotation, and another container's
# record present: the daemon looks for the key's mounts and finds none), and `sh -c 'cat'` fed the
# same state (the floor: a process start).
state_noop='{"ociVersion":"1.0.2","id":"lc-noop","status":"stopped","pid":0,"bundle":"/nonexistent"}'
state_work='{"ociVersion":"1.0.2","id":"lc-work","status":"stopped","pid":0,"bundle":"/nonexistent","annotations":{"dev.idshift.staging":"0123456789abcdef0123456789abcdef"}}'
stage_variant() {  # VARIANT
    case $1 in
        stage-floor) echo "$state_noop" | sh -c 'cat >/dev/null' ;;
        stage-noop) echo "$state_noop" | IDSHIFT_RUN_DIR=$work/run/jvm "$idshift" hook poststop ;;
        stage-daemon) echo "$state_work" | IDSHIFT_RUN_DIR=$work/run/daemon "$idshift" hook poststop ;;
    esac
}
# Another container's staging record (no mounts) makes the daemon variant's poststop a stage with work.
mkdir -p "$work/run/daemon/state"
other=$work/run/daemon/state/fedcba9876543210fedcba9876543210.json
echo '{"version":1,"key":"fedcba9876543210fedcba9876543210","createdAtMs":'"$(date +%s000)"',"mounts":[]}' > "$other"
for round in $(seq 1 $((rounds * 5))); do
    for variant in stage-floor stage-noop stage-daemon; do
        start=$(now_ns)
        stage_variant "$variant" || { echo "bench: $variant failed" >&2; exit 1; }
        end=$(now_ns)
        echo "$variant $(( (end - start) / 1000 ))" >> "$work/stage-samples"
    done
done
rm -f "$other"

for round in $(seq 1 "$rounds"); do
    for variant in $variants; do
        id=lc-$$-$round-$variant; ids="$ids $id"
        start=$(now_ns)
        run_variant "$variant" "$id" || { echo "bench: $variant failed in round $round" >&2; exit 1; }
        end=$(now_ns)
        echo "$variant $(( (end - start) / 1000 ))" >> "$work/samples"
    done
done

echo "container lifecycle (run + delete of /bin/true), userns 0->100000, $rounds alternated rounds ($(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg))"
awk -v order="$(echo $variants)" -f "$repo/bench/percentiles.awk" "$work/samples" | awk '
    { name[++count] = $1; med[$1] = $2; p90[$1] = $3 }
    END {
        # podman rows also against the trivial-hooks floor: what podman charges for running hooks at all.
        printf "%-22s %10s %8s %16s %16s\n", "variant", "median ms", "p90 ms", "+ms vs no-hook", "+ms vs true-hooks"
        for (i = 1; i <= count; i++) {
            base = name[i]; sub(/-.*/, "", base); floor = base "-true-hooks"; base = base "-no-hook"
            over = (base in med) ? sprintf("%16.1f", med[name[i]] - med[base]) : sprintf("%16s", "-")
            overFloor = (floor in med) ? sprintf("%16.1f", med[name[i]] - med[floor]) : sprintf("%16s", "-")
            printf "%-22s %10.1f %8.1f %s %s\n", name[i], med[name[i]], p90[name[i]], over, overFloor
        }
    }'
echo
echo "one hook stage alone (poststop), $((rounds * 5)) alternated rounds"
awk -v order="stage-floor stage-noop stage-daemon" -f "$repo/bench/percentiles.awk" "$work/stage-samples" | awk '
    { name[++count] = $1; med[$1] = $2; p90[$1] = $3 }
    END {
        printf "%-22s %10s %8s %16s\n", "variant", "median ms", "p90 ms", "+ms vs floor"
        for (i = 1; i <= count; i++) printf "%-22s %10.1f %8.1f %16.1f\n", name[i], med[name[i]], p90[name[i]], med[name[i]] - med["stage-floor"]
    }'
