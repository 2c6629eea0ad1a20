#!/bin/bash
# The FUSE backend against bindfs and the plain filesystem, side by side in one run, on one source
# tree with one map (on-disk 0..65535 -> host 100000..165535):
#   native      the source itself, as root (no shifting: the floor)
#   kernel      idshift's kernel backend (an idmapped mount), for reference
#   idshift     idshift mount --backend fuse (served through /dev/fuse reads and writes, the default)
#   idshift-uring the same over io_uring (IDSHIFT_FUSE_URING=1, opt-in; see below)
#   idshift-nospin the default transport with IDSHIFT_FUSE_SPIN_US=0: every serving thread sleeps in the
#               device's queue, none spins for the next request (the server before ReaderTurns)
#   bindfs      bindfs --uid-offset=100000 --gid-offset=100000 -o dev,suid (as people use it: default mode)
#   bindfs-mt   the same with --multithreaded
# Shifted variants run as host uid/gid 100000 (the container's root); native runs as root, through
# the same setpriv (a process start more per run, which readdir10k's ~10 ms would otherwise show).
# Workloads. Before each read-side run the page cache, dentries and inodes are dropped and then the
# source is read natively again: the underlying filesystem is warm, each mount's own caches are
# cold, so what is timed is the shifting layer, not this VM's (noisy) disk. setpriv and dd are run
# once after each drop too: every variant starts its timed command from warm binaries (the drop
# left setpriv, which only the shifted variants ran, and dd to be read from disk inside the timing):
#   stat100k    find -ls over 100,000 files in 100 directories
#   readdir10k  ls -f of one 10,000-entry directory
#   write1g     dd 1 GiB sequentially (1 MiB writes) into a new file
#   read1g      dd that file back
#   create10k   create+write(4 KiB)+close of 10,000 files (bench/smallfiles.c, no process per file)
#   untar20k    tar -x of a 20,000-file tree (1 KiB files, 200 directories)
# Before each write1g run (every variant alike): its old file is removed, everything is synced, and
# then 1.2 GiB is written natively to a scratch file that is removed again unflushed, right before
# the timed dd. Why: this VM hands free memory back to its host (virtio-balloon free page reporting,
# a few seconds after it is freed), and a page the host took back costs ~10 us to touch again. A 1 GiB
# write into reported memory took 2.4 s against 0.22 s into just-freed memory, on the plain
# filesystem alike, so without this step write1g timed how long ago the previous step freed memory
# (the idmapped mount, which adds nothing per write, measured 1.77x native that way). bindfs's
# writes outlast the few seconds before the warm pages are reported, so some of its time is faulting.
# FUSE over io_uring (Linux 6.14+) is gated by the fuse module's enable_uring parameter, off by
# default. This script switches it on for its run and back to what it was at the end; only
# idshift-uring asks for it (not bindfs: libfuse 3.14 has no io_uring).
# The source is an ext4 filesystem in RAM (a loop device on a file in /dev/shm): on this VM's disk
# the write-side samples spread 7-15x between rounds for every variant alike (native create10k
# 242, 3,490 and 1,570 ms in one run), far more than the layers differ. BENCH_ON_DISK=1 puts it
# under /var/tmp instead.
# Prints each variant's median time (ms) per workload, then idshift's speed relative to bindfs
# (bindfs time / idshift time: >= 1.00 means at least as fast) and to native; then the CPU time the
# idshift servers spent during each timed run (all their threads' schedstat run time): what the
# spinning reader costs.
# Usage: bench/fuse-compare.sh [ROUNDS]   (default 3; root, bindfs, gcc; ~9 GiB free memory, or
#        under /var/tmp with BENCH_ON_DISK=1; BENCH_WORKLOADS="create10k untar20k" runs only those)
set -euo pipefail
rounds=${1:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
idshift=$repo/bin/idshift
variants=(native kernel idshift idshift-nospin idshift-uring bindfs bindfs-mt)
# The writes last in each round: the 5 GiB that write1g leaves to flush would otherwise still be
# going to disk under the next workloads.
workloads=(${BENCH_WORKLOADS:-stat100k readdir10k create10k untar20k write1g read1g})

work=$(mktemp -d /var/tmp/idshift-fuse-bench-XXXXXX)
chmod 755 "$work"
src=$work/src
image=
mounted=()
uring=/sys/module/fuse/parameters/enable_uring
uring_was=
cleanup() {
    for m in "${mounted[@]}"; do
        case $m in
            */idshift|*/idshift-nospin|*/idshift-uring) "$idshift" umount "$m" >/dev/null 2>&1 || umount -l "$m" 2>/dev/null || true ;;
            *) umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true ;;
        esac
    done
    if [ -n "$image" ]; then
        umount "$src" 2>/dev/null || umount -l "$src" 2>/dev/null || true
        rm -f "$image"
    fi
    rm -rf --one-file-system "$work"
    if [ -n "$uring_was" ]; then echo "$uring_was" > "$uring" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

if [ -w "$uring" ]; then
    uring_was=$(cat "$uring")
    echo Y > "$uring"
else
    echo "bench: this kernel has no FUSE over io_uring ($uring): idshift-uring uses /dev/fuse too" >&2
fi
mkdir -p "$src"
if [ "${BENCH_ON_DISK:-0}" != 1 ]; then
    image=$(mktemp /dev/shm/idshift-fuse-bench-XXXXXX.img)
    truncate -s 9G "$image"
    mkfs.ext4 -q -F "$image"
    mount -o loop "$image" "$src"
fi

gcc -O2 -o "$work/smallfiles" "$repo/bench/smallfiles.c"
echo "bench: building the source tree under $work ..." >&2
mkdir -p "$src/tree100k" "$src/dir10k" "$src/scratch" "$work/tarsrc"
"$work/smallfiles" "$src/tree100k" 100000 0 100
"$work/smallfiles" "$src/dir10k" 10000 0
"$work/smallfiles" "$work/tarsrc" 20000 1024 200
tar -C "$work/tarsrc" --numeric-owner --owner=100000 --group=100000 -cf "$work/tree20k.tar" .
rm -rf "$work/tarsrc"
chown -R 0:0 "$src"
chmod 777 "$src/scratch"

mkdir -p "$work/mnt/kernel" "$work/mnt/idshift" "$work/mnt/idshift-nospin" "$work/mnt/idshift-uring" "$work/mnt/bindfs" "$work/mnt/bindfs-mt"
"$idshift" mount --backend kernel --uidmap 0:100000:65536 "$src" "$work/mnt/kernel" >/dev/null; mounted+=("$work/mnt/kernel")
declare -A server
server_pid() { sed -n 's/.*server pid \([0-9]*\).*/\1/p' <<< "$1" | head -n 1; }
out=$("$idshift" mount --backend fuse --uidmap 0:100000:65536 "$src" "$work/mnt/idshift"); mounted+=("$work/mnt/idshift")
server[idshift]=$(server_pid "$out")
out=$(IDSHIFT_FUSE_SPIN_US=0 "$idshift" mount --backend fuse --uidmap 0:100000:65536 "$src" "$work/mnt/idshift-nospin"); mounted+=("$work/mnt/idshift-nospin")
server[idshift-nospin]=$(server_pid "$out")
uring_out=$(IDSHIFT_FUSE_URING=1 "$idshift" mount --backend fuse --uidmap 0:100000:65536 "$src" "$work/mnt/idshift-uring"); mounted+=("$work/mnt/idshift-uring")
# A ring the server could not have (io_uring refused, a queue that failed) leaves it on /dev/fuse,
# silently: the variant would then time the default twice. Its queue threads say which it is.
uring_pid=$(server_pid "$uring_out")
server[idshift-uring]=$uring_pid
sleep 0.2
if ! grep -qs '^idshift-uring' /proc/"${uring_pid:-0}"/task/*/comm; then
    echo "bench: idshift-uring's server (pid ${uring_pid:-?}) has no ring threads: it serves through /dev/fuse" >&2
fi
bindfs --uid-offset=100000 --gid-offset=100000 -o dev,suid "$src" "$work/mnt/bindfs"; mounted+=("$work/mnt/bindfs")
bindfs --multithreaded --uid-offset=100000 --gid-offset=100000 -o dev,suid "$src" "$work/mnt/bindfs-mt"; mounted+=("$work/mnt/bindfs-mt")

view() { if [ "$1" = native ]; then echo "$src"; else echo "$work/mnt/$1"; fi; }
as() { if [ "$1" = native ]; then shift; setpriv --reuid 0 --regid 0 --clear-groups "$@"; else shift; setpriv --reuid 100000 --regid 100000 --clear-groups "$@"; fi; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; setpriv --reuid 0 --regid 0 --clear-groups dd if=/dev/null of=/dev/null status=none; }
# settle: after the last round's tree was removed from the source, behind the views' backs. A view
# that keeps an fd per node the kernel caches (idshift's) held those files' inodes: their deletion is
# done when the kernel forgets the nodes, at some later eviction, inside whatever run comes then (a
# BATCH_FORGET of ~200 deleted files took 4 ms, 1.3 s of server time over an untar). Dropping the
# dentry and inode caches makes every view forget them now (the server had let go of 15,900 fds
# within 100 ms); each run then starts from the same state, its deletion paid before it.
settle() { sync; echo 2 > /proc/sys/vm/drop_caches; sleep 0.5; sync; }

# cpu_ns VARIANT: the CPU time its server's threads have run so far (ns; 0 for a view without a server)
cpu_ns() {
    local pid=${server[$1]:-}
    if [ -z "$pid" ]; then echo 0; return; fi
    cat /proc/"$pid"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}

# run VARIANT WORKLOAD: prints elapsed us and the server's CPU us over the timed command
run() {
    local v=$1 w=$2 dir start end cpu0 cpu1
    dir=$(view "$v")
    local scratch=$dir/scratch/$v
    case $w in
        stat100k) drop; find "$src/tree100k" -ls > /dev/null ;;
        readdir10k) drop; ls -f "$src/dir10k" > /dev/null ;;
        read1g) drop; cat "$src/scratch/$v/big" > /dev/null ;;
        write1g) rm -f "$src/scratch/$v/big"; mkdir -p "$src/scratch/$v"; chmod 777 "$src/scratch/$v"; sync
            dd if=/dev/zero of="$src/scratch/warm" bs=1M count=1200 status=none; rm -f "$src/scratch/warm" ;;
        create10k|untar20k) rm -rf "$src/scratch/$v/$w"; settle; mkdir -p "$src/scratch/$v/$w"; chmod 777 "$src/scratch/$v/$w"; sync ;;
    esac
    cpu0=$(cpu_ns "$v")
    start=$(date +%s%N)
    case $w in
        stat100k) as "$v" find "$dir/tree100k" -ls > /dev/null ;;
        readdir10k) as "$v" ls -f "$dir/dir10k" > /dev/null ;;
        write1g) as "$v" dd if=/dev/zero of="$scratch/big" bs=1M count=1024 status=none ;;
        read1g) as "$v" dd if="$scratch/big" of=/dev/null bs=1M status=none ;;
        create10k) as "$v" "$work/smallfiles" "$scratch/$w" 10000 4096 ;;
        untar20k) as "$v" tar -xf "$work/tree20k.tar" -C "$scratch/$w" ;;
    esac
    end=$(date +%s%N)
    cpu1=$(cpu_ns "$v")
    echo "$(( (end - start) / 1000 )) $(( (cpu1 - cpu0) / 1000 ))"
}

declare -A samples cpus
for round in $(seq 1 "$rounds"); do
    echo "bench: round $round of $rounds" >&2
    for w in "${workloads[@]}"; do
        # read1g reads the file write1g made in this round, so keep the workloads in order. The
        # variants go in reverse order every other round: none always runs right after another
        # (idshift-uring after idshift) or always first after the preparation.
        order=("${variants[@]}")
        if [ $((round % 2)) = 0 ]; then
            order=(); for ((i = ${#variants[@]} - 1; i >= 0; i--)); do order+=("${variants[i]}"); done
        fi
        for v in "${order[@]}"; do
            read -r elapsed cpu <<< "$(run "$v" "$w")"
            samples[$v.$w]="${samples[$v.$w]:-} $elapsed"
            cpus[$v.$w]="${cpus[$v.$w]:-} $cpu"
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
printf '\n%-12s' "ms (median)"; for v in "${variants[@]}"; do printf '%14s' "$v"; done
printf '%16s%16s%14s%20s%15s\n' "bindfs/idshift" "bindfs-mt/ids." "idshift/nat." "bindfs-mt/ids-uring" "idshift/uring"
declare -A med
for w in "${workloads[@]}"; do
    printf '%-12s' "$w"
    for v in "${variants[@]}"; do
        med[$v.$w]=$(echo "${samples[$v.$w]}" | median)
        printf '%14s' "$(ms "${med[$v.$w]}")"
    done
    ours=${med[idshift.$w]}; [ "$ours" -gt 0 ] || ours=1
    native=${med[native.$w]}; [ "$native" -gt 0 ] || native=1
    ring=${med[idshift-uring.$w]}; [ "$ring" -gt 0 ] || ring=1
    awk -v b="${med[bindfs.$w]}" -v m="${med[bindfs-mt.$w]}" -v o="$ours" -v n="$native" -v d="$ring" \
        'BEGIN { printf "%15.2fx%15.2fx%13.2fx%19.2fx%14.2fx\n", b / o, m / o, o / n, m / d, o / d }'
done
echo
echo "bindfs/idshift >= 1.00x: idshift at least as fast as bindfs. idshift/nat.: idshift's time over the plain filesystem's."
echo "idshift/uring > 1.00x: the opt-in io_uring transport faster than the default /dev/fuse one."
echo
printf '%-12s' "server CPU ms"; for v in idshift idshift-nospin idshift-uring; do printf '%16s' "$v"; done
printf '%18s%18s\n' "CPU spin/nospin" "time nospin/spin"
for w in "${workloads[@]}"; do
    printf '%-12s' "$w"
    for v in idshift idshift-nospin idshift-uring; do printf '%16s' "$(ms "$(echo "${cpus[$v.$w]}" | median)")"; done
    awk -v s="$(echo "${cpus[idshift.$w]}" | median)" -v n="$(echo "${cpus[idshift-nospin.$w]}" | median)" \
        -v ts="${med[idshift.$w]}" -v tn="${med[idshift-nospin.$w]}" \
        'BEGIN { printf "%17.2fx%17.2fx\n", (n > 0 ? s / n : 0), (ts > 0 ? tn / ts : 0) }'
done
echo "server CPU: the median of the CPU time the view's server spent during each timed run (all its threads)."
echo "samples (ms, per round):"
for w in "${workloads[@]}"; do
    for v in "${variants[@]}"; do
        printf '  %s %s:' "$w" "$v"
        for sample in ${samples[$v.$w]}; do printf ' %s' "$(ms "$sample")"; done
        echo
    done
done
