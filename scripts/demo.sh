#!/usr/bin/env bash
# Shows what idshift does: an ordinary image owned by host root, started by runc in a user
# namespace (container root = host 100000) without and with the idshift hook; then the same
# image through `idshift mount`, with the kernel and the FUSE backend, and a container through FUSE.
# Leaves nothing behind. Usage (as root): bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bash scripts/setup.sh >/dev/null

work=$(mktemp -d /tmp/idshift-demo-XXXXXX)
chmod 755 "$work"
container=idshift-demo-$$
cleanup() {
    runc delete -f "$container" >/dev/null 2>&1 || true
    mountpoint -q "$work/view" 2>/dev/null && "$repo/bin/idshift" umount "$work/view"
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

mkdir -p "$work/bundle/rootfs"/{bin,proc,dev,etc,root,tmp} "$work/view"
cp "$(command -v busybox)" "$work/bundle/rootfs/bin/busybox"
for applet in sh ls id stat touch cat; do ln -s busybox "$work/bundle/rootfs/bin/$applet"; done
echo "hello from the image" > "$work/bundle/rootfs/etc/motd"

config() { # config HOOKS-JSON
    cat > "$work/bundle/config.json" <<JSON
{"ociVersion":"1.0.2",
 "process":{"terminal":false,"user":{"uid":0,"gid":0},"cwd":"/","env":["PATH=/bin"],
   "args":["sh","-c","cat /proc/self/uid_map; id; ls -ln / | head -6; touch /root/written-inside && echo 'touch /root/written-inside: ok' || true"]},
 "root":{"path":"rootfs"},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
           {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]}],
 "hooks":$1,
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},{"type":"user"}],
   "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
   "gidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
   "maskedPaths":["/proc/kcore","/proc/keys"],"readonlyPaths":["/proc/sys"]}}
JSON
}

say "The image on the host: owned by root (0), as any unpacked image is"
ls -ln "$work/bundle/rootfs" | head -5

say "runc, user namespace 0 -> 100000, WITHOUT idshift: the container's root owns nothing"
config '{}'
runc run --bundle "$work/bundle" "$container" 2>&1 || true
runc delete -f "$container" >/dev/null 2>&1 || true

say "The same container WITH the idshift hook (\"hooks\":{\"prestart\":[{\"path\":\"$repo/bin/idshift\",\"args\":[\"idshift\",\"hook\"]}]})"
config "{\"prestart\":[{\"path\":\"$repo/bin/idshift\",\"args\":[\"idshift\",\"hook\"]}]}"
runc run --bundle "$work/bundle" "$container"
runc delete -f "$container" >/dev/null 2>&1 || true

say "What the container wrote is stored unshifted, owned by 0 on disk (no chown, no copy)"
ls -ln "$work/bundle/rootfs/root"

say "idshift maps: the hook's dry run for this bundle"
"$repo/bin/idshift" maps --bundle "$work/bundle"

say "idshift mount, shiftfs-style, for people: the image seen through --uidmap 0:100000:65536"
"$repo/bin/idshift" mount --uidmap 0:100000:65536 "$work/bundle/rootfs" "$work/view"
ls -ln "$work/view" | head -5
"$repo/bin/idshift" umount "$work/view"
echo "(unmounted again)"

say "The FUSE backend, for what the kernel will not idmap: the same view served from userspace"
"$repo/bin/idshift" mount --backend fuse --uidmap 0:100000:65536 "$work/bundle/rootfs" "$work/view"
ls -ln "$work/view" | head -5
grep " $work/view " /proc/self/mountinfo | cut -d' ' -f5,8-9
"$repo/bin/idshift" umount "$work/view"
echo "(unmounted; its server has exited)"

say "A container whose rootfs goes through FUSE (annotation dev.idshift.backend=fuse; poststop stops the server)"
config "{\"prestart\":[{\"path\":\"$repo/bin/idshift\",\"args\":[\"idshift\",\"hook\"]}],\"poststop\":[{\"path\":\"$repo/bin/idshift\",\"args\":[\"idshift\",\"hook\"]}]}"
sed -i 's/"hooks":/"annotations":{"dev.idshift.backend":"fuse"},"hooks":/' "$work/bundle/config.json"
runc run --bundle "$work/bundle" "$container"
runc delete -f "$container" >/dev/null 2>&1 || true
