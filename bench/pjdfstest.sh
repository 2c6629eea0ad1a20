#!/bin/bash
# pjdfstest (https://github.com/pjd/pjdfstest, ~240 files, ~8,800 POSIX cases) through idshift's
# views, run by `prove -r`, each variant in a fresh directory on the filesystem of the work directory.
#
# AS=userns (default): as root of a user namespace 0 -> 100000 (host root writes its maps: no
# /etc/subuid needed), the container's case:
#   baseline   a directory owned by host 100000 (the namespace's root), no shifting: what the user
#              namespace itself fails (device mknod, and every case built on a device node)
#   kernel     a host-root-owned directory through `idshift mount --backend kernel --uidmap 0:100000:65536`
#   fuse       the same through `idshift mount --backend fuse`
#   bindfs     the same through `bindfs --uid-offset=100000 --gid-offset=100000 -o dev,suid`
# AS=root: as host root, no user namespace, so the cases the namespace masks (device nodes) run too:
#   baseline   a root-owned directory
#   kernel     a directory owned by 100000 through `idshift mount --backend kernel --uidmap 100000:0:65536`
#   fuse       the same through `idshift mount --backend fuse`
# The idshift views get the default flags (nosuid,nodev). Every variant runs the same tests: pjdfstest
# picks some by the filesystem type it sees, and a FUSE view is told it is its source's type (ext4
# updates ctime on rename, say, so the view must too).
# Prints, per variant, the failing test files and failed subtests, and the subtests failing beyond
# the baseline ("extra", as file:number, so a variant cannot hide a new failure behind a fixed one)
# or passing where the baseline fails ("fewer"); a TODO case (one pjdfstest expects Linux to fail)
# that passes counts in both as a difference from the baseline.
# Not run by CI: pjdfstest is not a Debian package.
#
# Usage: bench/pjdfstest.sh PJDFSTEST_DIR [VARIANT...]      (default: baseline kernel fuse bindfs;
#        AS=root: baseline kernel fuse)
#   PJDFSTEST_DIR  a pjdfstest checkout; built there (autoreconf, configure, make) if it has no binary
#   KEEP=1         keep the work directory (prove transcripts: WORK/VARIANT.prove)
#   WORKDIR=DIR    where the work directory is made (default /var/tmp; its filesystem is the one tested)
#   PARALLEL=1     run the variants at the same time (each in its own directory) instead of in turn
# Needs root, prove (perl), util-linux unshare/nsenter; bindfs for that variant; autoconf, automake and
# gcc to build pjdfstest. ~8 minutes per variant on 2 cores.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 PJDFSTEST_DIR [baseline|kernel|fuse|bindfs]..." >&2; exit 2; }
pjd=$(cd "$1" && pwd); shift
as=${AS:-userns}
case $as in userns|root) ;; *) echo "AS must be userns or root, not $as" >&2; exit 2 ;; esac
variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
    variants=(baseline kernel fuse); [ "$as" = root ] || variants+=(bindfs)
fi
for v in "${variants[@]}"; do
    case $as:$v in userns:baseline|userns:kernel|userns:fuse|userns:bindfs|root:baseline|root:kernel|root:fuse) ;;
        *) echo "unknown variant for AS=$as: $v" >&2; exit 2 ;; esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
idshift=$repo/bin/idshift
[ "$(id -u)" = 0 ] || { echo "$0: needs root" >&2; exit 2; }
[ -d "$pjd/tests" ] || { echo "$0: $pjd is not a pjdfstest checkout (no tests/)" >&2; exit 2; }
if [ ! -x "$pjd/pjdfstest" ]; then
    (cd "$pjd" && autoreconf -ifs && ./configure && make) >/dev/null
fi

work=$(mktemp -d "${WORKDIR:-/var/tmp}/idshift-pjdfstest.XXXXXX")
chmod 755 "$work"            # the namespace's root (host 100000) must reach the views
holder=""
mounted=()                   # "kind:path"
cleanup() {
    local m
    for m in "${mounted[@]}"; do
        case $m in
            idshift:*) "$idshift" umount "${m#idshift:}" >/dev/null 2>&1 || umount -l "${m#idshift:}" 2>/dev/null || true ;;
            *) umount "${m#*:}" 2>/dev/null || umount -l "${m#*:}" 2>/dev/null || true ;;
        esac
    done
    [ -z "$holder" ] || kill "$holder" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The tests, told the work directory's filesystem type whatever the view's (pjdfstest's conf takes
# it from `df -T .`, which says fuse.idshift or fuse for the FUSE views).
fs=$(df -PT "$work" | tail -1 | awk '{print toupper($2)}')
cp "$pjd/pjdfstest" "$work/pjdfstest"
cp -r "$pjd/tests" "$work/tests"
echo "fs=$fs   # bench/pjdfstest.sh: every view is tested as its source's filesystem" >> "$work/tests/conf"

if [ "$as" = userns ]; then
    # A process that sleeps in the namespace; root writes its maps (no newuidmap; setgroups left
    # allowed: pjdfstest calls it), and every run joins it with nsenter as its uid/gid 0.
    unshare -U sh -c 'echo $$ > "$1"; exec sleep infinity' sh "$work/holder.pid" &
    for _ in $(seq 100); do [ -s "$work/holder.pid" ] && break; sleep 0.1; done
    holder=$(cat "$work/holder.pid")
    echo "0 100000 65536" > "/proc/$holder/uid_map"
    echo "0 100000 65536" > "/proc/$holder/gid_map"
    map=0:100000:65536 source_owner=0:0 baseline_owner=100000:100000
else
    map=100000:0:65536 source_owner=100000:100000 baseline_owner=0:0
fi

# prove's summary as one "file:number" line per failed subtest (a file that failed without naming
# subtests, e.g. a bad plan, as "file:plan"), and "file:number:todo-passed" per subtest pjdfstest
# expects Linux to fail (TODO) that passed: a behaviour unlike the platform's too.
failures() {
    awk -v root="$work/tests/" '
        /^Test Summary Report/ { summary = 1; next }
        !summary { next }
        /^[^ ].*\.t +\(Wstat/ {
            file = $1; sub(root, "", file); order[++n] = file
            named[file] = ($0 ~ /Failed: 0\)$/); next
        }
        /^  Failed tests?:/ { sub(/^  Failed tests?: */, ""); listing = 1; suffix = "" }
        /^  TODO passed:/ { sub(/^  TODO passed: */, ""); listing = 1; suffix = ":todo-passed" }
        listing && /^ *[0-9]/ {
            gsub(/ /, ""); k = split($0, parts, ",")
            for (i = 1; i <= k; i++) {
                if (parts[i] == "") continue
                if (split(parts[i], r, "-") == 2) { for (j = r[1]; j <= r[2]; j++) print file ":" j suffix }
                else print file ":" parts[i] suffix
                if (suffix == "") named[file] = 1
            }
            next
        }
        { listing = 0 }
        END { for (i = 1; i <= n; i++) if (!named[order[i]]) print order[i] ":plan" }
    ' "$1" | sort -u
}

prepare() {
    local variant=$1 src=$work/$1-src view=$work/$1-view
    mkdir "$src"
    case $variant in
        baseline) chown "$baseline_owner" "$src"; ln -s "$src" "$view" ;;
        kernel|fuse)
            chown "$source_owner" "$src"
            mkdir "$view"
            "$idshift" mount --backend "$variant" --uidmap "$map" "$src" "$view" >/dev/null
            mounted+=("idshift:$view") ;;
        bindfs)
            mkdir "$view"
            bindfs --uid-offset=100000 --gid-offset=100000 -o dev,suid "$src" "$view"
            mounted+=("bindfs:$view") ;;
    esac
}

run() {
    local variant=$1 started=$SECONDS
    local enter=(); [ -z "$holder" ] || enter=(nsenter -t "$holder" -U -S 0 -G 0)
    "${enter[@]}" sh -c 'umask 022 && cd "$1" && exec prove -r "$2"' sh "$work/$variant-view/" "$work/tests" \
        > "$work/$variant.prove" 2>&1 || true
    failures "$work/$variant.prove" > "$work/$variant.failed"
    echo "$variant: $(grep -E '^(Files=|Result:)' "$work/$variant.prove" | tr '\n' ' ')($((SECONDS - started)) s)"
}

for v in "${variants[@]}"; do prepare "$v"; done
if [ "${PARALLEL:-0}" = 1 ]; then
    runs=()
    for v in "${variants[@]}"; do run "$v" & runs+=($!); done
    wait "${runs[@]}"          # not the namespace's holder, which sleeps until cleanup
else
    for v in "${variants[@]}"; do run "$v"; done
fi

echo
echo "as $as, on $fs:"
printf '%-10s %14s %16s %12s %8s %8s\n' variant "failing files" "failed subtests" "TODO passed" extra fewer
for v in "${variants[@]}"; do
    files=$( (grep -v ':todo-passed$' "$work/$v.failed" || true) | cut -d: -f1 | sort -u | wc -l)
    subtests=$(grep -Evc ':(plan|todo-passed)$' "$work/$v.failed" || true)
    todo=$(grep -c ':todo-passed$' "$work/$v.failed" || true)
    extra=- fewer=-
    if [ -f "$work/baseline.failed" ] && [ "$v" != baseline ]; then
        extra=$(comm -13 "$work/baseline.failed" "$work/$v.failed" | wc -l)
        fewer=$(comm -23 "$work/baseline.failed" "$work/$v.failed" | wc -l)
    fi
    printf '%-10s %14s %16s %12s %8s %8s\n' "$v" "$files" "$subtests" "$todo" "$extra" "$fewer"
done
for v in "${variants[@]}"; do
    if [ -f "$work/baseline.failed" ] && [ "$v" != baseline ]; then
        extra=$(comm -13 "$work/baseline.failed" "$work/$v.failed" | sort -V)
        [ -z "$extra" ] || { echo; echo "$v, failing beyond the baseline:"; echo "$extra" | sed 's/^/  /'; }
        fewer=$(comm -23 "$work/baseline.failed" "$work/$v.failed" | sort -V)
        [ -z "$fewer" ] || { echo; echo "$v, passing where the baseline fails:"; echo "$fewer" | sed 's/^/  /'; }
    fi
done
