#!/bin/sh
# The helper daemon under load: CLIENTS (default 50) concurrent clients x REQUESTS (default 20)
# shifted-mount requests of a marked tree; prints requests/s and p50/p90/p99 latency.
# Bar (issue 4): >= 500 requests/s and p99 < 20 ms on the 2-core VM. Needs root.
# Before measuring, WARMUP (default 3) rounds of CLIENTS x 100 requests warm both JVMs' JIT and the
# daemon's caches, as a long-running daemon is; WARMUP=0 measures a cold daemon.
# Usage: [WARMUP=N] bench/daemon-load.sh [CLIENTS] [REQUESTS]
set -eu
clients=${1:-50}
requests=${2:-20}
warmup=${WARMUP:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/idshift-daemon-bench-XXXXXX)
daemon=
cleanup() {
    # Under set -e a failing last command here (wait returns the daemon's 143) would skip the rm.
    if [ -n "$daemon" ]; then
        kill "$daemon" 2>/dev/null || true
        wait "$daemon" 2>/dev/null || true
    fi
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT INT TERM
mkdir -p "$work/closed/marked/image" "$work/state"
chmod 700 "$work/closed"
echo x > "$work/closed/marked/image/file"
IDSHIFT_STATE_DIR=$work/state "$repo/bin/idshift" mark "$work/closed/marked" >/dev/null
IDSHIFT_STATE_DIR=$work/state "$repo/bin/idshift" daemon --socket "$work/sock" 2>"$work/daemon.log" &
daemon=$!
i=0
while [ ! -S "$work/sock" ]; do i=$((i + 1)); [ $i -gt 300 ] && { cat "$work/daemon.log"; exit 1; }; sleep 0.05; done
java "-Dwarmup=$warmup" "$repo/bench/DaemonLoad.java" "$work/sock" "$work/closed/marked/image" "$clients" "$requests"
# The same load without the mount work (protocol, credentials, scheduling only), for comparison.
java "-Dwarmup=$warmup" "$repo/bench/DaemonLoad.java" "$work/sock" "$work/closed/marked/image" "$clients" "$requests" status
