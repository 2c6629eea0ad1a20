#!/usr/bin/env bash
# Installs what idshift and its tests need on Debian 12 (as root), then builds it.
# Idempotent: safe to run again. Usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (it installs packages; idshift itself mounts as root)" >&2
    exit 1
fi

# Build and run: Java 17 (a Temurin 25 JDK under /usr/lib/jvm is used too when present). Runtimes the
# integration tests drive; a one-file busybox rootfs; unshare/setpriv/newuidmap; FUSE (fuse3 for
# /dev/fuse and its tools; idshift's server needs no FUSE library) and bindfs for the FUSE backend and comparisons;
# git for the FUSE backend's tool tests; ACL/xattr/capability tools; gcc for bench/native-hook.c;
# systemd for systemd-socket-activate (the daemon's socket-activation test); python3 for the POSIX
# conformance suite.
packages=(openjdk-17-jdk-headless maven runc crun podman busybox-static uidmap util-linux
          fuse3 bindfs acl attr libcap2-bin gcc git systemd python3)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mvn -B -q package -DskipTests
# Record each JDK's class-data archives (the hook's, a FUSE server's) now rather than during the
# first container start.
bin/idshift --version >/dev/null
bin/idshift __train-fuse >/dev/null
for jdk in /usr/lib/jvm/temurin-25-jdk-*; do
    if [ -x "$jdk/bin/java" ]; then
        IDSHIFT_JAVA=$jdk/bin/java bin/idshift --version >/dev/null
        IDSHIFT_JAVA=$jdk/bin/java bin/idshift __train-fuse >/dev/null
    fi
done
echo "setup: done; $(bin/idshift --version | head -1) is ready at $PWD/bin/idshift"
