#!/bin/bash
# An overlay rootfs (as image stores hand runtimes: two lower layers, an upper dir, mounted by host
# root) shifted by `idshift hook` at createRuntime, side by side in one run, runc, user namespace
# 0 -> 100000, alternating the variants round by round, medians:
# Container start (runc run of /bin/true):
#   directory   the same image copied to a plain directory (kernel backend: one idmapped clone)
#   overlay     the overlay rebuilt on idmapped layers (issue 12)
#   fuse        the same overlay through the FUSE fallback (dev.idshift.backend=fuse: what 0.x did)
#   no-userns   the overlay in a container without a user namespace and no hook (reference)
# File operations inside a running container (runc exec, timed from the host, minus the median of
# an empty exec in the same container):
#   stat20k     ls -lR over 20,000 files in 100 directories (stat + readdir), lower layer
#   readdir10k  ls of one 10,000-entry directory, upper image layer
#   untar20k    tar -x of 20,000 empty files in 100 directories into the upper dir, then sync
# on the native overlay (no user namespace), the rebuilt overlay and FUSE; each with its own upper
# dir over the same lower layers. Caches are warm (one untimed pass first): what is timed is the
# shifting layer, not this VM's disk.
# Usage: bench/overlay-start.sh [ROUNDS] [all|start]   (default 9 all; needs root, runc, busybox-static)
set -euo pipefail
rounds=${1:-9}
parts=${2:-all}
repo=$(cd "$(dirname "$0")/.." && pwd)
idshift=$repo/bin/idshift

work=$(mktemp -d /tmp/idshift-overlay-bench-XXXXXX)
chmod 755 "$work"
ids=()
mounts=()
cleanup() {
    for id in "${ids[@]}"; do runc delete -f "$id" >/dev/null 2>&1 || true; done
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true; done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM

# The image: l1 = busybox + 20k files, l2 = a 10k-entry directory + the tarball; as host root.
mkdir -p "$work/l1/bin" "$work/l1/proc" "$work/l1/dev" "$work/l1/tmp" "$work/l1/data/files" "$work/l2/data/big" "$work/tarsrc"
cp "$(command -v busybox)" "$work/l1/bin/busybox"
for applet in sh true ls tar sync mkdir rm cat grep sleep; do ln -s busybox "$work/l1/bin/$applet"; done
chmod 1777 "$work/l1/tmp"
for d in $(seq 1 100); do mkdir "$work/l1/data/files/d$d" "$work/tarsrc/d$d"; (cd "$work/l1/data/files/d$d" && seq 1 200 | xargs touch); done
(cd "$work/l2/data/big" && seq 1 10000 | xargs touch)
for d in $(seq 1 100); do (cd "$work/tarsrc/d$d" && seq 1 200 | xargs touch); done
tar -C "$work/tarsrc" -cf "$work/l2/data/t.tar" .
cp -a "$work/l1/." "$work/directory"; cp -a "$work/l2/." "$work/directory"

# overlay NAME: a fresh upper/work over the shared lower layers, mounted at $work/NAME-rootfs.
overlay() {
    mkdir -p "$work/$1-c/diff" "$work/$1-c/work" "$work/$1-rootfs"
    mount -t overlay overlay -o "lowerdir=$work/l2:$work/l1,upperdir=$work/$1-c/diff,workdir=$work/$1-c/work" "$work/$1-rootfs"
    mounts+=("$work/$1-rootfs")
}
# bundle NAME ROOTFS ARGS-JSON USERNS(yes/no) ANNOTATIONS-JSON
bundle() {
    mkdir -p "$work/$1"
    local userns='' maps='' hooks='{}'
    if [ "$4" = yes ]; then
        userns=',{"type":"user"}'
        maps=',"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]'
        hooks="{\"createRuntime\":[{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\"]}],\"poststop\":[{\"path\":\"$idshift\",\"args\":[\"idshift\",\"hook\"]}]}"
    fi
    cat > "$work/$1/config.json" <<JSON
{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":$3,"env":["PATH=/bin"],"cwd":"/"},
 "root":{"path":"$2"},"hostname":"bench","annotations":$5,
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
   {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]}],
 "hooks":$hooks,
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}$userns]$maps,
   "maskedPaths":["/proc/kcore","/proc/keys","/proc/timer_list"],"readonlyPaths":["/proc/sys","/proc/sysrq-trigger"]}}
JSON
}
overlay start-ovl; overlay start-fuse; overlay start-native
bundle start-directory "$work/directory" '["/bin/true"]' yes '{}'
bundle start-overlay "$work/start-ovl-rootfs" '["/bin/true"]' yes '{}'
bundle start-fuse "$work/start-fuse-rootfs" '["/bin/true"]' yes '{"dev.idshift.backend":"fuse"}'
bundle start-no-userns "$work/start-native-rootfs" '["/bin/true"]' no '{}'
overlay ops-ovl; overlay ops-fuse; overlay ops-native
bundle ops-overlay "$work/ops-ovl-rootfs" '["/bin/sleep","3600"]' yes '{}'
bundle ops-fuse "$work/ops-fuse-rootfs" '["/bin/sleep","3600"]' yes '{"dev.idshift.backend":"fuse"}'
bundle ops-native "$work/ops-native-rootfs" '["/bin/sleep","3600"]' no '{}'
start_variants="directory overlay fuse no-userns"
ops_variants="native overlay fuse"

# Check every variant shows the rootfs as it should, and that the shifted ones really took their path.
for variant in $start_variants; do
    sed 's#"args":\["/bin/true"\]#"args":["/bin/sh","-c","ls -ln / | grep bin; cat /proc/self/mountinfo"]#' "$work/start-$variant/config.json" > "$work/check.json"
    mkdir -p "$work/check-$variant" && mv "$work/check.json" "$work/check-$variant/config.json"
    id=bench-check-$$-$variant; ids+=("$id")
    case $variant in
        overlay) want=' / / .* - overlay idshift-overlay ' ;; fuse) want=' / / .* - fuse.idshift ' ;; *) want=' / .* - ' ;;
    esac
    # Up to 3 tries: on a shared machine another tool's `idshift gc` may sweep a fresh staging dir.
    for try in 1 2 3; do
        seen=$(runc run --bundle "$work/check-$variant" "$id" 2>&1 || true)
        runc delete -f "$id" >/dev/null 2>&1 || true
        echo "$seen" | grep -q -- "$want" && break
    done
    if ! echo "$seen" | grep -q -- "$want" || ! echo "$seen" | grep -q ' 0  *0 '; then
        echo "bench: $variant: expected root-owned /bin and '$want' in: $seen" >&2; exit 1
    fi
done

now_ns() { date +%s%N; }
for round in $(seq 1 "$rounds"); do
    for variant in $start_variants; do
        id=bench-$$-$round-$variant; ids+=("$id")
        for try in 1 2 3; do  # a run another tool's gc broke is retried, not counted
            start=$(now_ns)
            if runc run --bundle "$work/start-$variant" "$id" >/dev/null 2>"$work/err"; then end=$(now_ns); break; fi
            runc delete -f "$id" >/dev/null 2>&1 || true
            [ "$try" -lt 3 ] || { echo "bench: runc run failed for $variant: $(cat "$work/err")" >&2; exit 1; }
        done
        runc delete -f "$id" >/dev/null 2>&1 || true
        echo "start $variant $(( (end - start) / 1000 ))" >> "$work/samples"
    done
done

[ "$parts" = all ] || ops_variants=""
for variant in $ops_variants; do
    id=bench-ops-$$-$variant; ids+=("$id")
    runc run --detach --bundle "$work/ops-$variant" "$id" </dev/null >/dev/null 2>&1
done
timed() {  # timed KIND VARIANT SCRIPT
    local id=bench-ops-$$-$2 start end
    start=$(now_ns)
    runc exec "$id" /bin/sh -c "$3" >/dev/null 2>&1 || { echo "bench: $1 failed on $2" >&2; exit 1; }
    end=$(now_ns)
    echo "$1 $2 $(( (end - start) / 1000 ))" >> "$work/samples"
}
working=""
for variant in $ops_variants; do  # warm-up pass, untimed; a variant that fails it is reported, not timed
    if runc exec "bench-ops-$$-$variant" /bin/sh -c "ls -lR /data/files && ls /data/big >/dev/null && mkdir /tmp/u && tar -xf /data/t.tar -C /tmp/u && rm -rf /tmp/u" >"$work/warm-$variant.log" 2>&1; then
        working="$working $variant"
    else
        echo "bench: the $variant container failed the workloads, left out: $(grep -iE "can't|error|too many|denied|no such" "$work/warm-$variant.log" | head -2 | tr '\n' ' ')" >&2
    fi
done
ops_variants=${working# }
for round in $(seq 1 "$rounds"); do
    for variant in $ops_variants; do
        timed exec $variant "true"
        timed stat20k $variant "ls -lR /data/files"
        timed readdir10k $variant "ls /data/big"
        timed untar20k $variant "mkdir /tmp/u && tar -xf /data/t.tar -C /tmp/u && sync"
        runc exec "bench-ops-$$-$variant" /bin/rm -rf /tmp/u
    done
done

echo "runc, userns 0->100000, overlay of 2 lower layers + upper, $rounds alternated rounds ($(nproc) cores, kernel $(uname -r))"
awk -v starts="$start_variants" -v ops="$ops_variants" '
    { key = $1 " " $2; n[key]++; v[key, n[key]] = $3 / 1000 }
    function ratio(r, variant) { return (variant in r) && r["native"] > 0 ? sprintf("%.2fx", r[variant] / r["native"]) : "n/a" }
    function med(key,   i, j, t, k) {
        for (i = 1; i <= n[key]; i++) for (j = i + 1; j <= n[key]; j++) if (v[key, j] < v[key, i]) { t = v[key, i]; v[key, i] = v[key, j]; v[key, j] = t }
        k = int((n[key] + 1) / 2); return v[key, k]
    }
    END {
        cs = split(starts, s, " ")
        print "\ncontainer start (runc run /bin/true)"
        printf "%-12s %10s %14s %14s\n", "rootfs", "median ms", "+ms vs dir", "x directory"
        for (i = 1; i <= cs; i++) m["start " s[i]] = med("start " s[i])
        for (i = 1; i <= cs; i++) printf "%-12s %10.1f %14.1f %13.2fx\n", s[i], m["start " s[i]], m["start " s[i]] - m["start directory"], m["start " s[i]] / m["start directory"]
        co = split(ops, o, " ")
        if (co == 0) exit
        print "\ninside the container (median ms, an empty exec subtracted)"
        printf "%-12s", "workload"; for (i = 1; i <= co; i++) printf " %12s", o[i]; printf " %16s %14s\n", "overlay/native", "fuse/native"
        for (i = 1; i <= co; i++) x[o[i]] = med("exec " o[i])
        nw = split("stat20k readdir10k untar20k", w, " ")
        for (j = 1; j <= nw; j++) {
            printf "%-12s", w[j]
            for (i = 1; i <= co; i++) { r[o[i]] = med(w[j] " " o[i]) - x[o[i]]; printf " %12.1f", r[o[i]] }
            printf " %15s %13s\n", ratio(r, "overlay"), ratio(r, "fuse")
        }
    }' "$work/samples"
